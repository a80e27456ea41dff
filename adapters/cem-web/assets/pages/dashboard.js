// The manager dashboard: the live status of the manager's branches with their service-level
// alerts, KPI reports with charts and CSV exports, the staffing forecast with what-if
// questions, survey results and the cases they open. For administrators and branch managers.
import {
  t, h, api, stream, render, announce, showError, localized, num, language,
  formatDate, formatTime, formatDateTime, formatDuration, offlineShell,
} from '/assets/app.js';
import {
  staffPage, topBar, tabs, todayIn, addDays, zoneMidnight, busy, offerDownload, imageUrl,
  weekdayName, pct, fig,
} from '/assets/pages/dashboard-util.js';

const state = {
  me: null,
  tab: 'live',
  branches: [],
  configs: new Map(),
  agents: null,
  classes: null,
  streams: [],
  report: null,
  forecastBranch: null,
};

const TABS = ['live', 'reports', 'forecast', 'feedback'];
const GROUPS = ['branch', 'service', 'counter', 'agent', 'class', 'hour', 'day', 'weekday', 'all'];
const CHARTS = ['waits', 'arrivals', 'service-level', 'satisfaction'];

// ---------------------------------------------------------------------------------------------
// Data the page keeps

async function config(branch) {
  if (!state.configs.has(branch)) state.configs.set(branch, await api(`/api/v1/branches/${branch}`));
  return state.configs.get(branch);
}

function branchName(id) {
  const b = state.branches.find((x) => x.id === id);
  return b ? localized(b.name) : id;
}

function zoneOf(branchId) {
  if (branchId) return state.branches.find((b) => b.id === branchId)?.time_zone || 'UTC';
  const zones = [...new Set(state.branches.map((b) => b.time_zone))];
  return zones.length === 1 ? zones[0] : 'UTC';
}

async function serviceNames(only) {
  const names = new Map();
  for (const b of state.branches) {
    if (only && b.id !== only) continue;
    const c = await config(b.id);
    const where = only ? '' : ` (${localized(b.name)})`;
    for (const s of c.services) names.set(s.id, `${s.prefix} – ${localized(s.name)}${where}`);
    for (const k of c.counters) names.set(k.id, `${t('common.counter')} ${num(k.number)}${k.name ? ` – ${localized(k.name)}` : ''}${where}`);
  }
  return names;
}

async function agents() {
  if (!state.agents) {
    try { state.agents = await api('/api/v1/agents'); } catch (err) { state.agents = []; showError(err); }
  }
  return state.agents;
}

async function classes() {
  if (!state.classes) state.classes = await api('/api/v1/classes');
  return state.classes;
}

/** The name of a report group's key. */
async function keyNamer(by, only) {
  const names = ['service', 'counter'].includes(by) ? await serviceNames(only) : new Map();
  const people = by === 'agent' ? await agents() : [];
  const kinds = by === 'class' ? await classes() : [];
  return (key, tz) => {
    if (key == null) return t('dashboard.everything');
    switch (by) {
      case 'branch': return branchName(key);
      case 'service': case 'counter': return names.get(key) || key;
      case 'agent': return people.find((a) => a.id === key)?.name || key;
      case 'class': return localized(kinds.find((c) => c.id === key)?.name) || key;
      case 'hour': return t('dashboard.hourRange', { from: num(key, { minimumIntegerDigits: 2 }), to: num((key + 1) % 24, { minimumIntegerDigits: 2 }) });
      case 'day': return formatDate(zoneMidnight(key, tz), tz, 'full');
      case 'weekday': return weekdayName(key);
      case 'survey': return key;
      default: return String(key);
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Drawing

async function draw() {
  closeStreams();
  const bar = await topBar('dashboard', state.me, draw);
  const body = h('div', { id: 'tab-body' });
  render(
    bar,
    h('h1', { class: 'visually-hidden' }, t('dashboard.title')),
    tabs(TABS.map((key) => ({ key, label: t(`dashboard.tab.${key}`) })), state.tab, (key) => {
      state.tab = key;
      history.replaceState(null, '', `#${key}`);
      draw();
    }),
    body,
  );
  try {
    if (state.tab === 'live') await drawLive(body);
    else if (state.tab === 'reports') await drawReports(body);
    else if (state.tab === 'forecast') await drawForecast(body);
    else await drawFeedback(body);
  } catch (err) {
    showError(err);
  }
}

function closeStreams() {
  for (const s of state.streams) s.close();
  state.streams = [];
}

function branchSelect(id, value, { all = false } = {}) {
  return h('select', { id, name: id },
    all ? h('option', { value: '' }, t('dashboard.allBranches')) : null,
    state.branches.map((b) => h('option', { value: b.id, selected: b.id === value }, localized(b.name))));
}

function field(id, label, input) {
  const row = h('div', { class: 'field' }, h('label', { for: id }, label), input);
  if (input.type === 'date' && language().calendar !== 'gregory') {
    // The browser's date picker writes Gregorian dates: the language's calendar beside it.
    const echo = h('span', { class: 'date-echo muted', 'aria-live': 'polite' });
    const update = () => { echo.textContent = input.value ? formatDate(zoneMidnight(input.value, 'UTC'), 'UTC', 'long') : ''; };
    input.addEventListener('input', update);
    update();
    row.append(echo);
  }
  return row;
}

// ---- Live -----------------------------------------------------------------------------------

async function drawLive(body) {
  body.append(h('h2', {}, t('dashboard.live.title')));
  if (!state.branches.length) {
    body.append(h('p', {}, t('dashboard.noBranches')));
    return;
  }
  const grid = h('div', { class: 'live-grid' });
  body.append(grid);
  for (const b of state.branches) {
    const card = h('section', { class: 'card live-branch', 'data-branch': b.id, 'aria-labelledby': `live-${b.id}` },
      h('h3', { id: `live-${b.id}` }, localized(b.name), ' ', h('span', { class: 'badge conn' }, '…')),
      h('div', { class: 'live-body' }, h('p', { class: 'loading' }, t('dashboard.loading'))));
    grid.append(card);
    const refresh = throttled(() => loadLive(b, card), 1500);
    await loadLive(b, card);
    state.streams.push(stream(`/api/v1/branches/${b.id}/events`, {
      onState: (s) => {
        const badge = card.querySelector('.conn');
        badge.textContent = s === 'open' ? t('dashboard.live.connected') : t('dashboard.live.reconnecting');
        badge.className = `badge conn ${s === 'open' ? 'ok' : 'bad'}`;
        if (s === 'open') refresh();
      },
      onMessage: (m) => {
        if (m.event === 'alert' && m.data && typeof m.data === 'object') {
          const service = serviceLabel(b.id, m.data.service);
          announce(t(m.data.change === 'raised' ? 'dashboard.live.raised' : 'dashboard.live.cleared',
            { branch: localized(b.name), service }), m.data.change === 'raised' ? 'error' : 'ok');
          loadLive(b, card);
        } else {
          refresh();
        }
      },
    }));
  }
}

function throttled(fn, ms) {
  let timer = null;
  let last = 0;
  return () => {
    if (timer) return;
    const wait = Math.max(0, last + ms - Date.now());
    timer = setTimeout(() => { timer = null; last = Date.now(); fn(); }, wait);
  };
}

function serviceLabel(branch, service) {
  const s = state.configs.get(branch)?.services.find((x) => x.id === service);
  return s ? `${s.prefix} – ${localized(s.name)}` : (service || '');
}

async function loadLive(b, card) {
  let view;
  try {
    [view] = await Promise.all([api(`/api/v1/branches/${b.id}/live`), config(b.id)]);
  } catch (err) {
    showError(err);
    return;
  }
  const s = view.status;
  const tz = b.time_zone;
  const figure = (key, label, value, extra = '') => h('div', { class: `figure ${extra}`, 'data-figure': key },
    h('span', { class: 'figure-value' }, value), h('span', { class: 'figure-label' }, label));
  const alerts = view.alerts.length
    ? h('ul', { class: 'alerts' }, view.alerts.map((a) => h('li', { class: 'alert', 'data-kind': a.kind },
      t(`dashboard.alert.${a.kind}`, {
        service: serviceLabel(b.id, a.service),
        wait: formatDuration(a.longest_wait_secs),
        limit: formatDuration(a.limit_secs),
        waiting: a.waiting,
      }), ' ', h('span', { class: 'muted' }, t('dashboard.live.since', { time: formatTime(a.at, tz) })))))
    : h('p', { class: 'no-alerts' }, t('dashboard.live.noAlerts'));
  card.querySelector('.live-body').replaceChildren(
    h('div', { class: 'figures', 'aria-live': 'polite' },
      figure('waiting', t('dashboard.live.waiting'), num(s.waiting), s.waiting ? 'hot' : ''),
      figure('longest', t('dashboard.live.longest'), formatDuration(s.longest_wait_secs)),
      figure('open', t('dashboard.live.open'), num(s.counters_open)),
      figure('busy', t('dashboard.live.busy'), num(s.counters_busy)),
      figure('paused', t('dashboard.live.paused'), num(s.counters_paused)),
      figure('closed', t('dashboard.live.closed'), num(s.counters_closed))),
    h('h4', {}, t('dashboard.live.alerts')),
    h('div', { class: 'alert-list', 'aria-live': 'assertive' }, alerts),
    h('table', { class: 'live-services' },
      h('caption', { class: 'visually-hidden' }, t('dashboard.live.services')),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('common.service')),
        h('th', { scope: 'col', class: 'num' }, t('dashboard.live.waiting')),
        h('th', { scope: 'col', class: 'num' }, t('dashboard.live.longest')),
        h('th', { scope: 'col', class: 'num' }, t('dashboard.live.estimated')),
        h('th', { scope: 'col', class: 'num' }, t('dashboard.live.target')),
        h('th', { scope: 'col', class: 'num' }, t('dashboard.live.open')))),
      h('tbody', {}, s.services.map((x) => h('tr', {
        'data-service': x.service,
        class: x.longest_wait_secs != null && x.target_wait_secs != null && x.longest_wait_secs > x.target_wait_secs ? 'late' : null,
      },
      h('th', { scope: 'row' }, serviceLabel(b.id, x.service)),
      h('td', { class: 'num', 'data-col': 'waiting' }, num(x.waiting)),
      h('td', { class: 'num' }, formatDuration(x.longest_wait_secs)),
      h('td', { class: 'num' }, formatDuration(x.estimated_wait_secs)),
      h('td', { class: 'num' }, formatDuration(x.target_wait_secs)),
      h('td', { class: 'num' }, num(x.open_counters)))))),
    h('p', { class: 'muted updated' }, t('dashboard.live.updated', { time: formatTime(s.at, tz) })),
  );
}

// ---- Reports --------------------------------------------------------------------------------

function defaultPeriod(tz) {
  const today = todayIn(tz);
  return { from: addDays(today, -14), to: addDays(today, -1) };
}

async function drawReports(body) {
  const r = state.report || (state.report = reportFromUrl());
  const branch = branchSelect('report-branch', r.branch, { all: true });
  const by = h('select', { id: 'report-by', name: 'by' },
    GROUPS.map((g) => h('option', { value: g, selected: g === r.by }, t(`dashboard.by.${g}`))));
  const from = h('input', { id: 'report-from', name: 'from', type: 'date', value: r.from, required: true });
  const to = h('input', { id: 'report-to', name: 'to', type: 'date', value: r.to, required: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('dashboard.show'));
  const out = h('div', { id: 'report-out' });
  const form = h('form', {
    class: 'card toolbar', id: 'report-form',
    onsubmit: (e) => {
      e.preventDefault();
      Object.assign(r, { branch: branch.value, by: by.value, from: from.value, to: to.value });
      busy(submit, () => loadReport(out));
    },
  },
  field('report-branch', t('common.branch'), branch),
  field('report-by', t('dashboard.groupBy'), by),
  field('report-from', t('dashboard.from'), from),
  field('report-to', t('dashboard.toInclusive'), to),
  h('div', { class: 'field submit' }, submit));
  body.append(h('h2', {}, t('dashboard.reports.title')), form, out);
  await busy(submit, () => loadReport(out));
}

/** The report the page's address asks for (`?branch=…&by=…&from=…&to=…`, so a report can be
 *  bookmarked), else the first branch's services over the last two weeks. */
function reportFromUrl() {
  const q = new URLSearchParams(location.search);
  const date = (v) => (/^\d{4}-\d{2}-\d{2}$/.test(v || '') ? v : null);
  const asked = q.get('branch');
  const branch = asked === 'all' ? '' : (state.branches.some((b) => b.id === asked) ? asked : state.branches[0]?.id || '');
  const period = defaultPeriod(zoneOf(branch));
  return {
    branch,
    by: GROUPS.includes(q.get('by')) ? q.get('by') : 'service',
    from: date(q.get('from')) || period.from,
    to: date(q.get('to')) || period.to,
  };
}

/** Writes the report asked into the page's address, keeping its other parameters. */
function reportToUrl(r) {
  const q = new URLSearchParams(location.search);
  q.set('branch', r.branch || 'all');
  q.set('by', r.by);
  q.set('from', r.from);
  q.set('to', r.to);
  history.replaceState(null, '', `?${q}${location.hash}`);
}

function reportQuery(r) {
  const tz = zoneOf(r.branch);
  if (r.to < r.from) throw new Error(t('dashboard.reports.badRange'));
  const params = new URLSearchParams({
    from: zoneMidnight(r.from, tz).toISOString(),
    to: zoneMidnight(addDays(r.to, 1), tz).toISOString(),
  });
  if (r.branch) params.set('branch', r.branch);
  return { params, tz };
}

async function loadReport(out) {
  const r = state.report;
  const { params, tz } = reportQuery(r);
  reportToUrl(r);
  const q = new URLSearchParams(params);
  q.set('by', r.by);
  out.replaceChildren(h('p', { class: 'loading' }, t('dashboard.loading')));
  const [kpis, satisfaction, name] = await Promise.all([
    api(`/api/v1/reports/kpis?${q}`),
    api(`/api/v1/reports/satisfaction?${q}`).catch((err) => { showError(err); return null; }),
    keyNamer(r.by, r.branch),
  ]);
  const sat = new Map((satisfaction?.rows || []).map((row) => [JSON.stringify(row.kpi.key), row]));
  const zone = kpis.time_zone || tz;
  const cols = [
    ['arrived', (x) => fig(x.arrived)],
    ['served', (x) => fig(x.served)],
    ['no_show', (x) => fig(x.no_show)],
    ['cancelled', (x) => fig(x.cancelled)],
    ['wait_mean_secs', (x) => formatDuration(x.wait_mean_secs)],
    ['wait_median_secs', (x) => formatDuration(x.wait_median_secs)],
    ['wait_p90_secs', (x) => formatDuration(x.wait_p90_secs)],
    ['service_level_pct', (x) => pct(x.service_level_pct)],
    ['service_time_mean_secs', (x) => formatDuration(x.service_time_mean_secs)],
    ['utilization_pct', (x) => pct(x.utilization_pct)],
  ];
  const satCols = [
    ['responses', (s) => fig(s?.responses)],
    ['nps', (s) => fig(s?.nps, 1)],
    ['csat', (s) => pct(s?.csat)],
  ];
  const table = h('table', {
    class: 'report', id: 'kpi-table',
    dataset: { by: kpis.by, from: kpis.from, to: kpis.to, branch: r.branch || '' },
  },
  h('caption', {}, t('dashboard.reports.caption', {
    from: formatDate(kpis.from, zone), to: formatDate(new Date(Date.parse(kpis.to) - 1), zone),
  })),
  h('thead', {}, h('tr', {},
    h('th', { scope: 'col' }, t(`dashboard.by.${r.by}`)),
    cols.map(([k]) => h('th', { scope: 'col', class: 'num' }, t(`dashboard.kpi.${k}`))),
    satCols.map(([k]) => h('th', { scope: 'col', class: 'num sat' }, t(`dashboard.kpi.${k}`))))),
  h('tbody', {}, kpis.rows.length ? kpis.rows.map((row) => {
    const joined = sat.get(JSON.stringify(row.key));
    const s = joined && !joined.suppressed ? joined.satisfaction : null;
    return h('tr', { 'data-key': row.key.key ?? 'all' },
      h('th', { scope: 'row' }, name(row.key.key, zone)),
      cols.map(([k, f]) => h('td', { class: 'num', 'data-col': k }, f(row))),
      satCols.map(([k, f]) => h('td', { class: 'num sat', 'data-col': k }, joined?.suppressed ? t('dashboard.hidden') : f(s))));
  }) : h('tr', {}, h('td', { colspan: 1 + cols.length + satCols.length }, t('dashboard.reports.empty')))));

  const downloads = h('div', { class: 'row downloads no-print' });
  const csvButton = (kind, path, file) => {
    const button = h('button', { type: 'button', class: 'csv', 'data-csv': kind }, t(`dashboard.csv.${kind}`));
    button.addEventListener('click', () => busy(button, async () => {
      const text = await api(`${path}?${q}&format=csv`, { headers: { Accept: 'text/csv' } });
      downloads.querySelector(`a[data-file="${file}"]`)?.remove();
      const link = offerDownload(text, file);
      link.dataset.file = file;
      downloads.append(link);
    }));
    return button;
  };
  downloads.append(
    csvButton('kpis', '/api/v1/reports/kpis', 'kpis.csv'),
    csvButton('satisfaction', '/api/v1/reports/satisfaction', 'satisfaction.csv'),
    h('button', { type: 'button', onclick: () => window.print() }, t('dashboard.print')));

  const charts = h('div', { class: 'charts' });
  out.replaceChildren(h('div', { class: 'table-wrap' }, table), downloads,
    h('h3', {}, t('dashboard.charts.title')), charts);
  const c = new URLSearchParams(params);
  c.set('language', language().code);
  for (const kind of CHARTS) {
    const img = h('img', { alt: t(`dashboard.charts.${kind}`), 'data-chart': kind, width: 800, height: 400 });
    charts.append(h('figure', { class: 'card chart' }, img, h('figcaption', {}, t(`dashboard.charts.${kind}`))));
    imageUrl(`/api/v1/reports/charts/${kind}.svg?${c}`)
      .then((url) => { img.src = url; })
      .catch((err) => { img.replaceWith(h('p', { class: 'error' }, err.message)); });
  }
}

// ---- Forecast -------------------------------------------------------------------------------

async function drawForecast(body) {
  const id = state.forecastBranch || state.branches[0]?.id;
  if (!id) { body.append(h('p', {}, t('dashboard.noBranches'))); return; }
  const branch = branchSelect('forecast-branch', id);
  const level = h('input', { id: 'forecast-level', type: 'number', min: 1, max: 99, step: 1, value: 80, required: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('dashboard.show'));
  const out = h('div', { id: 'forecast-out' });
  const whatIf = h('div', { id: 'what-if' });
  const load = () => busy(submit, async () => {
    state.forecastBranch = branch.value;
    const b = state.branches.find((x) => x.id === branch.value);
    const [f, c] = await Promise.all([
      api(`/api/v1/branches/${b.id}/forecast?level=${Number(level.value) / 100}`),
      config(b.id),
    ]);
    drawForecastResult(out, f, c);
    drawWhatIf(whatIf, b, c);
  });
  body.append(
    h('h2', {}, t('dashboard.forecast.title')),
    h('p', { class: 'muted' }, t('dashboard.forecast.intro')),
    h('form', { class: 'card toolbar', onsubmit: (e) => { e.preventDefault(); load(); } },
      field('forecast-branch', t('common.branch'), branch),
      field('forecast-level', t('dashboard.forecast.level'), level),
      h('div', { class: 'field submit' }, submit)),
    out, whatIf);
  await load();
}

function drawForecastResult(out, f, c) {
  const tz = f.time_zone;
  const byHour = new Map();
  for (const x of f.totals) {
    if (!byHour.has(x.hour)) byHour.set(x.hour, new Map());
    byHour.get(x.hour).set(x.weekday, x.counters);
  }
  const hours = [...byHour.keys()].filter((hr) => [...byHour.get(hr).values()].some((n) => n > 0)).sort((a, b) => a - b);
  const max = Math.max(1, ...f.totals.map((x) => x.counters));
  const days = [1, 2, 3, 4, 5, 6, 7];
  out.replaceChildren(
    h('p', {}, t('dashboard.forecast.window', {
      from: formatDate(zoneMidnight(f.from, tz), tz), to: formatDate(zoneMidnight(addDays(f.to, -1), tz), tz),
      level: pct(f.level * 100, 0),
    })),
    hours.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'forecast', id: 'forecast-table' },
      h('caption', {}, t('dashboard.forecast.caption')),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('dashboard.forecast.hour')),
        days.map((d) => h('th', { scope: 'col', class: 'num' }, weekdayName(d, 'short'))))),
      h('tbody', {}, hours.map((hr) => h('tr', {},
        h('th', { scope: 'row' }, t('dashboard.hourRange', { from: num(hr, { minimumIntegerDigits: 2 }), to: num((hr + 1) % 24, { minimumIntegerDigits: 2 }) })),
        days.map((d) => {
          const n = byHour.get(hr).get(d) || 0;
          return h('td', { class: 'num heat', style: `--heat:${n / max}` }, n ? num(n) : '');
        })))))) : h('p', {}, t('dashboard.forecast.empty')),
    h('h3', {}, t('dashboard.forecast.services')),
    h('table', {},
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('common.service')),
        h('th', { scope: 'col', class: 'num' }, t('dashboard.forecast.meanService')),
        h('th', { scope: 'col', class: 'num' }, t('dashboard.live.target')),
        h('th', { scope: 'col', class: 'num' }, t('dashboard.forecast.peak')))),
      h('tbody', {}, f.services.map((s) => h('tr', {},
        h('th', { scope: 'row' }, localized(c.services.find((x) => x.id === s.service)?.name) || s.service),
        h('td', { class: 'num' }, formatDuration(s.mean_service_secs), ' ',
          h('span', { class: 'muted' }, s.from_history ? t('dashboard.forecast.fromHistory') : t('dashboard.forecast.fromConfig'))),
        h('td', { class: 'num' }, formatDuration(s.target_wait_secs)),
        h('td', { class: 'num' }, num(Math.max(0, ...s.hours.map((x) => x.counters)))))))),
  );
}

function drawWhatIf(box, b, c) {
  const service = h('select', { id: 'whatif-service', required: true },
    c.services.map((s) => h('option', { value: s.id }, `${s.prefix} – ${localized(s.name)}`)));
  const arrivals = h('input', { id: 'whatif-arrivals', type: 'number', min: 0.1, max: 10000, step: 'any', value: 20, required: true });
  const counters = h('input', { id: 'whatif-counters', type: 'number', min: 1, max: 200, step: 1, value: 2, required: true });
  const mean = h('input', { id: 'whatif-mean', type: 'number', min: 1, step: 'any', placeholder: t('dashboard.whatIf.fromHistory') });
  const target = h('input', { id: 'whatif-target', type: 'number', min: 1, step: 1, placeholder: t('dashboard.whatIf.serviceTarget') });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('dashboard.whatIf.ask'));
  const answer = h('div', { id: 'whatif-answer', 'aria-live': 'polite' });
  box.replaceChildren(h('h3', {}, t('dashboard.whatIf.title')),
    h('form', {
      class: 'card toolbar',
      onsubmit: (e) => {
        e.preventDefault();
        busy(submit, async () => {
          const q = new URLSearchParams({ service: service.value, arrivals_per_hour: arrivals.value, counters: counters.value });
          if (mean.value) q.set('mean_service_secs', Number(mean.value) * 60);
          if (target.value) q.set('target_wait_secs', Math.round(Number(target.value) * 60));
          const w = await api(`/api/v1/branches/${b.id}/what-if?${q}`);
          const res = w.result;
          answer.replaceChildren(h('dl', { class: 'figures' },
            [['serviceLevel', pct(res.service_level * 100)], ['theory', pct(res.theory_service_level * 100)],
              ['waitMean', formatDuration(res.wait_mean_secs)], ['waitP90', formatDuration(res.wait_p90_secs)],
              ['utilization', pct(res.utilization * 100)],
              ['meanService', `${formatDuration(w.question.mean_service_secs)} (${t(`dashboard.whatIf.from.${w.mean_service_from}`)})`]]
              .map(([k, v]) => h('div', { class: 'figure', 'data-figure': k },
                h('dt', { class: 'figure-label' }, t(`dashboard.whatIf.${k}`)), h('dd', { class: 'figure-value' }, v)))));
        });
      },
    },
    field('whatif-service', t('common.service'), service),
    field('whatif-arrivals', t('dashboard.whatIf.arrivals'), arrivals),
    field('whatif-counters', t('dashboard.whatIf.counters'), counters),
    field('whatif-mean', t('dashboard.whatIf.mean'), mean),
    field('whatif-target', t('dashboard.whatIf.target'), target),
    h('div', { class: 'field submit' }, submit)),
    answer);
}

// ---- Feedback: survey results and cases ---------------------------------------------------------

const RESULT_GROUPS = ['branch', 'service', 'counter', 'agent', 'survey', 'day', 'week', 'month', 'all'];

async function drawFeedback(body) {
  const f = state.feedback || (state.feedback = { by: 'branch', branch: '', ...defaultPeriod(zoneOf('')), status: 'open' });
  const branch = branchSelect('results-branch', f.branch, { all: true });
  const by = h('select', { id: 'results-by' }, RESULT_GROUPS.map((g) => h('option', { value: g, selected: g === f.by }, t(`dashboard.by.${g}`))));
  const from = h('input', { id: 'results-from', type: 'date', value: f.from, required: true });
  const to = h('input', { id: 'results-to', type: 'date', value: f.to, required: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('dashboard.show'));
  const out = h('div', { id: 'results-out' });
  const load = () => busy(submit, async () => {
    Object.assign(f, { branch: branch.value, by: by.value, from: from.value, to: to.value });
    await loadResults(out, f);
  });
  const cases = h('div', { id: 'cases' });
  body.append(
    h('h2', {}, t('dashboard.results.title')),
    h('form', { class: 'card toolbar', onsubmit: (e) => { e.preventDefault(); load(); } },
      field('results-branch', t('common.branch'), branch),
      field('results-by', t('dashboard.groupBy'), by),
      field('results-from', t('dashboard.from'), from),
      field('results-to', t('dashboard.toInclusive'), to),
      h('div', { class: 'field submit' }, submit)),
    out, cases);
  await Promise.all([load(), drawCases(cases)]);
}

function satisfactionFigures(s) {
  return [
    ['responses', fig(s?.responses)],
    ['nps', fig(s?.nps, 1)],
    ['csat', pct(s?.csat)],
    ['ces_ease', pct(s?.ces_ease == null ? null : s.ces_ease * 100)],
    ['sentiment', fig(s?.sentiment, 2)],
  ];
}

async function loadResults(out, f) {
  const tz = zoneOf(f.branch);
  const q = new URLSearchParams({
    by: f.by, from: zoneMidnight(f.from, tz).toISOString(), to: zoneMidnight(addDays(f.to, 1), tz).toISOString(),
  });
  if (f.branch) q.set('branch', f.branch);
  const [res, name, surveys] = await Promise.all([
    api(`/api/v1/surveys/results?${q}`),
    keyNamer(['day', 'week', 'month'].includes(f.by) ? 'raw' : f.by, f.branch),
    api('/api/v1/surveys').catch(() => []),
  ]);
  const label = (key) => {
    if (key == null) return t('dashboard.everything');
    if (f.by === 'survey') return surveys.find((s) => s.id === key)?.name || key;
    if (['day', 'week'].includes(f.by) && /^\d{4}-\d{2}-\d{2}$/.test(key)) return formatDate(zoneMidnight(key, tz), tz);
    if (f.by === 'month' && /^\d{4}-\d{2}/.test(key)) return formatDate(zoneMidnight(`${key.slice(0, 7)}-15`, tz), tz, 'long');
    return name(key, tz);
  };
  const overall = satisfactionFigures(res.overall);
  overall.push(['invitations', fig(res.invitations)], ['response_rate', pct(res.response_rate)]);
  out.replaceChildren(
    h('dl', { class: 'figures card', id: 'results-overall', 'aria-live': 'polite' }, overall.map(([k, v]) => h('div', { class: 'figure', 'data-figure': k },
      h('dt', { class: 'figure-label' }, t(`dashboard.kpi.${k}`)), h('dd', { class: 'figure-value' }, v)))),
    h('div', { class: 'table-wrap' }, h('table', { id: 'results-table' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t(`dashboard.by.${f.by}`)),
        satisfactionFigures(null).map(([k]) => h('th', { scope: 'col', class: 'num' }, t(`dashboard.kpi.${k}`))))),
      h('tbody', {}, res.groups.length ? res.groups.map((g) => h('tr', {},
        h('th', { scope: 'row' }, label(g.key)),
        g.suppressed
          ? h('td', { colspan: 5, class: 'muted' }, t('dashboard.hiddenGroup'))
          : satisfactionFigures(g.figures).map(([k, v]) => h('td', { class: 'num', 'data-col': k }, v))))
        : h('tr', {}, h('td', { colspan: 6 }, t('dashboard.reports.empty')))))),
  );
}

async function drawCases(box) {
  const f = state.feedback;
  const status = h('select', { id: 'cases-status' },
    ['open', 'in_progress', 'resolved', ''].map((s) => h('option', { value: s, selected: s === f.status }, t(`dashboard.cases.status.${s || 'all'}`))));
  const list = h('div', { id: 'cases-list' });
  const load = async () => {
    f.status = status.value;
    const q = new URLSearchParams();
    if (f.status) q.set('status', f.status);
    const cases = await api(`/api/v1/cases?${q}`);
    drawCaseList(list, cases, load);
  };
  status.addEventListener('change', () => load().catch(showError));
  box.replaceChildren(h('h2', {}, t('dashboard.cases.title')),
    h('div', { class: 'toolbar' }, field('cases-status', t('dashboard.cases.show'), status)), list);
  await load().catch(showError);
}

function reasonText(reason) {
  return t(`dashboard.cases.reason.${reason.kind}`, { score: reason.score });
}

function drawCaseList(list, cases, reload) {
  if (!cases.length) { list.replaceChildren(h('p', {}, t('dashboard.cases.none'))); return; }
  list.replaceChildren(h('div', { class: 'table-wrap' }, h('table', { id: 'cases-table' },
    h('thead', {}, h('tr', {},
      ['opened', 'branch', 'reason', 'state', 'deadline', 'actions'].map((k) => h('th', { scope: 'col' }, t(`dashboard.cases.col.${k}`))))),
    h('tbody', {}, cases.slice().reverse().map((c) => {
      const tz = zoneOf(c.branch);
      const detail = h('tr', { class: 'case-detail', hidden: true }, h('td', { colspan: 6 }));
      const view = h('button', { type: 'button' }, t('dashboard.cases.view'));
      view.addEventListener('click', () => busy(view, async () => {
        if (!detail.hidden) { detail.hidden = true; return; }
        const d = await api(`/api/v1/cases/${c.id}`);
        const survey = await api(`/api/v1/surveys/${c.survey}?version=${d.response.version}`).catch(() => null);
        detail.firstChild.replaceChildren(caseDetail(d, tz, reload, survey));
        detail.hidden = false;
      }));
      const take = c.status === 'resolved' ? null : h('button', { type: 'button' }, t('dashboard.cases.take'));
      take?.addEventListener('click', () => busy(take, async () => {
        await api(`/api/v1/cases/${c.id}/take`, { method: 'POST' });
        announce(t('dashboard.cases.taken'), 'ok');
        await reload();
      }));
      return [h('tr', { 'data-case': c.id, class: c.overdue ? 'overdue' : null },
        h('td', {}, formatDateTime(c.created_at, tz)),
        h('td', {}, branchName(c.branch)),
        h('td', {}, reasonText(c.reason)),
        h('td', {}, t(`dashboard.cases.status.${c.status}`), c.overdue ? [' ', h('span', { class: 'badge bad' }, t('dashboard.cases.overdue'))] : null),
        h('td', {}, formatDateTime(c.deadline, tz)),
        h('td', { class: 'row' }, view, take)), detail];
    })))));
}

function caseDetail(d, tz, reload, survey) {
  const c = d.case;
  const answers = h('dl', { class: 'answers' }, d.response.answers.map((a) => {
    const q = survey?.questions.find((x) => x.key === a.question);
    const options = q?.kind?.options || [];
    const label = (v) => localized(options.find((o) => o.key === v)?.label) || v;
    const value = typeof a.value === 'string' && options.length ? label(a.value)
      : Array.isArray(a.value) && options.length ? a.value.map(label).join(', ') : answerText(a);
    return [h('dt', {}, q ? localized(q.prompt) : a.question), h('dd', {}, value)];
  }));
  const parts = [
    h('p', {}, t('dashboard.cases.submitted', { when: formatDateTime(d.response.submitted_at, tz) })),
    answers,
  ];
  if (d.response.analysis) {
    parts.push(h('p', { class: 'muted' }, t('dashboard.cases.analysis', {
      sentiment: d.response.analysis.sentiment ? t(`dashboard.sentiment.${d.response.analysis.sentiment}`) : '', tags: (d.response.analysis.tags || []).join(', '),
    })));
  }
  if (c.status === 'resolved') {
    parts.push(h('p', {}, h('strong', {}, t('dashboard.cases.rootCause')), ' ', c.root_cause || ''),
      h('p', {}, h('strong', {}, t('dashboard.cases.resolution')), ' ', c.resolution || ''));
    return h('div', { class: 'case' }, parts);
  }
  const id = c.id.slice(-8);
  const root = h('textarea', { id: `root-${id}`, rows: 2, required: true });
  const resolution = h('textarea', { id: `resolution-${id}`, rows: 2, required: true });
  const reply = c.has_reply_to ? h('textarea', { id: `reply-${id}`, rows: 3 }) : null;
  const submit = h('button', { type: 'submit', class: 'primary' }, t('dashboard.cases.resolve'));
  const error = h('p', { class: 'form-error', role: 'alert', dir: 'auto' });
  parts.push(h('form', {
    class: 'resolve',
    onsubmit: (e) => {
      e.preventDefault();
      error.textContent = '';
      busy(submit, async () => {
        try {
          await api(`/api/v1/cases/${c.id}/resolve`, {
            method: 'POST',
            body: { root_cause: root.value, resolution: resolution.value, reply: reply ? reply.value : null },
          });
        } catch (err) {
          error.textContent = err.message;
          throw err;
        }
        announce(t('dashboard.cases.resolved'), 'ok');
        await reload();
      });
    },
  },
  h('h4', {}, t('dashboard.cases.resolveTitle')),
  h('label', { for: root.id }, t('dashboard.cases.rootCause')), root,
  h('label', { for: resolution.id }, t('dashboard.cases.resolution')), resolution,
  reply ? [h('label', { for: reply.id }, t('dashboard.cases.reply')), reply] : h('p', { class: 'muted' }, t('dashboard.cases.noContact')),
  error, submit));
  return h('div', { class: 'case' }, parts);
}

function answerText(a) {
  const v = a.value ?? a.answer ?? a;
  if (v == null) return '';
  if (typeof v === 'number') return num(v);
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.join(', ');
  if (typeof v === 'object') {
    if ('score' in v) return num(v.score);
    if ('text' in v) return v.text;
    if ('choice' in v) return v.choice;
    if ('choices' in v) return v.choices.join(', ');
    const inner = Object.values(v).find((x) => typeof x !== 'object');
    if (inner != null) return typeof inner === 'number' ? num(inner) : String(inner);
  }
  return JSON.stringify(v);
}

// ---------------------------------------------------------------------------------------------

offlineShell();
staffPage('dashboard', async (me) => {
  state.me = me;
  const hash = location.hash.slice(1);
  if (TABS.includes(hash)) state.tab = hash;
  try {
    const all = await api('/api/v1/branches');
    state.branches = me.role === 'admin' ? all : all.filter((b) => me.branches.includes(b.id));
  } catch (err) {
    showError(err);
  }
  await draw();
});
