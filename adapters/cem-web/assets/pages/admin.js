// Administration: the organization's branches (opening hours, time zone), services, counters
// and their work profiles, priority classes, agents and users, devices, screens, layouts,
// playlists, news and surveys. A list and an edit form per kind; what the API refuses is shown
// next to the form. Administrators change everything; branch managers what they may.
import {
  t, h, render, announce, showError, localized, num, languages, ApiError, session,
  formatDateTime, formatDuration, offlineShell,
} from '/assets/app.js';
import { staffPage, topBar, tabs } from '/assets/pages/dashboard-util.js';

const state = {
  me: null,
  kind: 'branches',
  branch: null,
  branches: [],
  classes: [],
  agents: [],
  languages: [],
  editing: null,
};

const KINDS = ['branches', 'services', 'counters', 'users', 'agents', 'news', 'classes', 'customers',
  'devices', 'screens', 'layouts', 'playlists', 'surveys', 'organization'];
/** The kinds a branch manager may change (the others they only read, or do not see). */
const MANAGER_WRITES = ['branches', 'services', 'counters', 'news', 'devices', 'screens'];
const MANAGER_HIDDEN = ['users', 'organization'];
const BRANCH_KINDS = ['services', 'counters', 'devices', 'screens'];
const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const POLICIES = ['strict', 'interleave', 'weighted_wait'];
const ROLES = ['admin', 'branch_manager', 'agent'];

const isAdmin = () => state.me.role === 'admin';
const mayWrite = (kind) => isAdmin() || MANAGER_WRITES.includes(kind);

// ---------------------------------------------------------------------------------------------
// The API, with the text of refusals that are not problem documents

async function call(path, { method = 'GET', body } = {}) {
  const headers = { Accept: 'application/json' };
  const token = session.token();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, 'offline', t('common.offline'));
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = text; }
  if (!res.ok) {
    if (data && typeof data === 'object') throw new ApiError(res.status, data.code || 'http_error', data.detail || data.message || `${res.status}`);
    throw new ApiError(res.status, res.status === 422 ? 'invalid_body' : 'http_error', text || `${res.status}`);
  }
  return data;
}

const uuid = () => crypto.randomUUID();

// ---------------------------------------------------------------------------------------------
// Form pieces

let fieldCount = 0;
function fieldId(name) { fieldCount += 1; return `f-${name}-${fieldCount}`; }

function input(name, label, value, attrs = {}) {
  const id = attrs.id || fieldId(name);
  const el = h('input', { id, name, value: value ?? '', ...attrs });
  return { el, row: h('div', { class: 'field' }, h('label', { for: id }, label), el) };
}

function textarea(name, label, value, attrs = {}) {
  const id = fieldId(name);
  const el = h('textarea', { id, name, rows: 3, ...attrs });
  el.value = value ?? '';
  return { el, row: h('div', { class: 'field wide' }, h('label', { for: id }, label), el) };
}

function select(name, label, options, value, attrs = {}) {
  const id = attrs.id || fieldId(name);
  const el = h('select', { id, name, ...attrs },
    options.map(([v, text]) => h('option', { value: v, selected: v === (value ?? '') }, text)));
  return { el, row: h('div', { class: 'field' }, h('label', { for: id }, label), el) };
}

function checkbox(name, label, checked) {
  const id = fieldId(name);
  const el = h('input', { id, name, type: 'checkbox', checked: !!checked });
  return { el, row: h('div', { class: 'field check' }, el, h('label', { for: id }, label)) };
}

/** Inputs of a text in each language; `read()` gives `{en: …, fa: …}` without the empty ones. */
function localizedInputs(name, label, value, { required = true, area = false } = {}) {
  const parts = state.languages.map((l, i) => {
    const make = area ? textarea : input;
    const f = make(`${name}-${l.code}`, `${label} (${l.name})`, value?.[l.code] ?? '',
      { lang: l.code, dir: l.dir, required: required && i === 0 });
    return [l.code, f];
  });
  return {
    rows: parts.map(([, f]) => f.row),
    read() {
      const out = {};
      for (const [code, f] of parts) if (f.el.value.trim()) out[code] = f.el.value.trim();
      return out;
    },
  };
}

function branchChecks(name, chosen = []) {
  const boxes = state.branches.map((b) => [b.id, checkbox(`${name}-${b.id.slice(-6)}`, localized(b.name), chosen.includes(b.id))]);
  return {
    row: h('fieldset', { class: 'field wide' }, h('legend', {}, t('admin.field.branches')), h('div', { class: 'row' }, boxes.map(([, c]) => c.row))),
    read: () => boxes.filter(([, c]) => c.el.checked).map(([id]) => id),
  };
}

const optNumber = (el) => (el.value.trim() === '' ? null : Number(el.value));

/** A form that saves through `save()`, shows the API's refusal beside it and calls `done`. */
function editForm(title, rows, save, { done, submitLabel = t('common.save') } = {}) {
  const error = h('p', { class: 'form-error', role: 'alert', 'aria-live': 'assertive', dir: 'auto' });
  const submit = h('button', { type: 'submit', class: 'primary' }, submitLabel);
  const cancel = h('button', { type: 'button', onclick: () => { state.editing = null; draw(); } }, t('common.cancel'));
  const form = h('form', {
    class: 'card edit-form',
    onsubmit: async (e) => {
      e.preventDefault();
      error.textContent = '';
      submit.disabled = true;
      try {
        await save();
        announce(t('admin.saved'), 'ok');
        state.editing = null;
        if (done) await done();
        else await draw();
      } catch (err) {
        error.textContent = err.message || String(err);
        showError(err);
      } finally {
        submit.disabled = false;
      }
    },
  },
  h('h2', {}, title),
  h('div', { class: 'fields' }, rows),
  error,
  h('div', { class: 'row' }, submit, cancel));
  setTimeout(() => form.querySelector('input, select, textarea')?.focus(), 0);
  return form;
}

function deleteButton(path, what) {
  const button = h('button', { type: 'button', class: 'danger' }, t('common.delete'));
  button.addEventListener('click', async () => {
    if (!window.confirm(t('admin.confirmDelete', { what }))) return;
    button.disabled = true;
    try {
      await call(path, { method: 'DELETE' });
      announce(t('admin.deleted'), 'ok');
      await draw();
    } catch (err) {
      showError(err);
      button.disabled = false;
    }
  });
  return button;
}

function table(id, headers, rows) {
  return h('div', { class: 'table-wrap' }, h('table', { id },
    h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: headers.length }, t('admin.empty'))))));
}

function editButton(kind, record) {
  return h('button', { type: 'button', 'data-edit': record.id, onclick: () => { state.editing = { kind, record }; draw(); } },
    mayWrite(kind) ? t('admin.edit') : t('admin.view'));
}

function newButton(kind) {
  if (!mayWrite(kind) || (kind === 'branches' && !isAdmin())) return null;
  return h('button', { type: 'button', class: 'primary', id: `new-${kind}`, onclick: () => { state.editing = { kind, record: null }; draw(); } },
    t(`admin.new.${kind}`));
}

function branchName(id) {
  const b = state.branches.find((x) => x.id === id);
  return b ? localized(b.name) : t('admin.otherBranch');
}

// ---------------------------------------------------------------------------------------------
// Drawing

async function draw() {
  const visible = KINDS.filter((k) => isAdmin() || !MANAGER_HIDDEN.includes(k));
  if (!visible.includes(state.kind)) state.kind = visible[0];
  const body = h('div', { id: 'kind-body' });
  render(
    await topBar('admin', state.me, draw),
    h('h1', { class: 'visually-hidden' }, t('admin.title')),
    tabs(visible.map((key) => ({ key, label: t(`admin.kind.${key}`) })), state.kind, (key) => {
      state.kind = key;
      state.editing = null;
      history.replaceState(null, '', `#${key}`);
      draw();
    }),
    body,
  );
  if (!mayWrite(state.kind)) body.append(h('p', { class: 'muted read-only' }, t('admin.readOnly')));
  if (BRANCH_KINDS.includes(state.kind)) {
    const s = select('branch', t('common.branch'), state.branches.map((b) => [b.id, localized(b.name)]), state.branch, { id: 'admin-branch' });
    s.el.addEventListener('change', () => { state.branch = s.el.value; state.editing = null; draw(); });
    body.append(h('div', { class: 'toolbar' }, s.row));
  }
  try {
    await DRAW[state.kind](body);
  } catch (err) {
    showError(err);
  }
}

async function refreshBranches() {
  state.branches = await call('/api/v1/branches');
  if (!isAdmin()) state.branches = state.branches.filter((b) => state.me.branches.includes(b.id));
  if (!state.branch || !state.branches.some((b) => b.id === state.branch)) state.branch = state.branches[0]?.id || null;
}

const DRAW = {
  // ---- Branches -------------------------------------------------------------------------------
  async branches(body) {
    await refreshBranches();
    const e = state.editing;
    body.append(h('div', { class: 'row list-head' }, h('h2', {}, t('admin.kind.branches')), newButton('branches')),
      table('branches-table', [t('admin.field.name'), t('admin.field.timeZone'), t('admin.field.hours'), ''],
        state.branches.map((b) => h('tr', { 'data-id': b.id },
          h('td', {}, localized(b.name)), h('td', {}, b.time_zone),
          h('td', {}, hoursSummary(b.opening_hours)),
          h('td', { class: 'row' }, editButton('branches', b))))));
    if (e?.kind === 'branches') body.append(branchForm(e.record));
  },

  // ---- Services -------------------------------------------------------------------------------
  async services(body) {
    if (!state.branch) return;
    const config = await call(`/api/v1/branches/${state.branch}`);
    const e = state.editing;
    body.append(h('div', { class: 'row list-head' }, h('h2', {}, t('admin.kind.services')), newButton('services')),
      table('services-table', [t('admin.field.prefix'), t('admin.field.name'), t('admin.field.expected'), t('admin.field.target'), t('admin.field.appointments'), ''],
        config.services.map((s) => h('tr', { 'data-id': s.id, 'data-prefix': s.prefix },
          h('td', {}, s.prefix), h('td', {}, localized(s.name)),
          h('td', { class: 'num' }, num(s.expected_service_secs)), h('td', { class: 'num' }, num(s.target_wait_secs)),
          h('td', {}, s.takes_appointments ? t('admin.yes') : t('admin.no')),
          h('td', { class: 'row' }, editButton('services', s),
            mayWrite('services') ? deleteButton(`/api/v1/branches/${state.branch}/services/${s.id}`, localized(s.name)) : null)))));
    if (e?.kind === 'services') body.append(serviceForm(e.record));
  },

  // ---- Counters -------------------------------------------------------------------------------
  async counters(body) {
    if (!state.branch) return;
    const config = await call(`/api/v1/branches/${state.branch}`);
    const e = state.editing;
    const svc = (id) => config.services.find((s) => s.id === id);
    body.append(h('div', { class: 'row list-head' }, h('h2', {}, t('admin.kind.counters')), newButton('counters')),
      table('counters-table', [t('admin.field.number'), t('admin.field.name'), t('admin.field.services'), t('admin.field.policy'), t('admin.field.classes'), ''],
        config.counters.map((k) => h('tr', { 'data-id': k.id, 'data-number': k.number },
          h('td', { class: 'num' }, num(k.number)), h('td', {}, localized(k.name)),
          h('td', {}, k.profile.services.map((p) => `${svc(p.service)?.prefix ?? '?'} (${t('admin.field.rank')} ${num(p.rank)}, ${t('admin.field.weight')} ${num(p.weight)})`).join(' · ')),
          h('td', {}, t(`admin.policy.${k.profile.policy}`)),
          h('td', {}, k.profile.classes ? k.profile.classes.map((c) => localized(config.classes.find((x) => x.id === c)?.name) || c).join(', ') : t('admin.allClasses')),
          h('td', { class: 'row' }, editButton('counters', k),
            mayWrite('counters') ? deleteButton(`/api/v1/branches/${state.branch}/counters/${k.id}`, `${t('common.counter')} ${num(k.number)}`) : null)))));
    if (e?.kind === 'counters') body.append(counterForm(e.record, config));
  },

  // ---- Users ----------------------------------------------------------------------------------
  async users(body) {
    const [users, agents] = await Promise.all([call('/api/v1/users'), call('/api/v1/agents')]);
    state.agents = agents;
    const e = state.editing;
    body.append(h('div', { class: 'row list-head' }, h('h2', {}, t('admin.kind.users')), newButton('users')),
      table('users-table', [t('admin.field.login'), t('admin.field.name'), t('admin.field.role'), t('admin.field.branches'), t('admin.field.active'), ''],
        users.map((u) => h('tr', { 'data-id': u.id },
          h('td', {}, u.login), h('td', {}, u.name), h('td', {}, t(`admin.role.${u.role}`)),
          h('td', {}, u.role === 'admin' ? t('admin.allBranches') : u.branches.map(branchName).join(', ')),
          h('td', {}, u.active ? t('admin.yes') : t('admin.no')),
          h('td', { class: 'row' }, editButton('users', u), u.id === state.me.user ? null : deleteButton(`/api/v1/users/${u.id}`, u.login))))));
    if (e?.kind === 'users') body.append(userForm(e.record));
  },

  // ---- Agents ---------------------------------------------------------------------------------
  async agents(body) {
    let agents = await call('/api/v1/agents');
    // A manager sees the agents of their branches.
    if (!isAdmin()) agents = agents.filter((a) => a.branches.some((b) => state.me.branches.includes(b)));
    state.agents = agents;
    const e = state.editing;
    body.append(h('div', { class: 'row list-head' }, h('h2', {}, t('admin.kind.agents')), newButton('agents')),
      table('agents-table', [t('admin.field.name'), t('admin.field.branches'), ''],
        agents.map((a) => h('tr', { 'data-id': a.id },
          h('td', {}, a.name), h('td', {}, a.branches.map(branchName).join(', ')),
          h('td', { class: 'row' }, editButton('agents', a), mayWrite('agents') ? deleteButton(`/api/v1/agents/${a.id}`, a.name) : null)))));
    if (e?.kind === 'agents') body.append(agentForm(e.record));
  },

  // ---- News -----------------------------------------------------------------------------------
  async news(body) {
    const news = await call('/api/v1/news');
    const e = state.editing;
    body.append(h('div', { class: 'row list-head' }, h('h2', {}, t('admin.kind.news')), newButton('news')),
      table('news-table', [t('admin.field.title'), t('admin.field.from'), t('admin.field.until'), t('admin.field.targets'), t('admin.field.priority'), ''],
        news.map((n) => h('tr', { 'data-id': n.id },
          h('td', {}, localized(n.title)),
          h('td', {}, formatDateTime(n.publish_from)),
          h('td', {}, n.publish_until ? formatDateTime(n.publish_until) : '–'),
          h('td', {}, targetsText(n.targets)),
          h('td', {}, t(`admin.priority.${n.priority}`)),
          h('td', { class: 'row' }, editButton('news', n), deleteButton(`/api/v1/news/${n.id}`, localized(n.title)))))));
    if (e?.kind === 'news') body.append(newsForm(e.record));
  },

  // ---- Priority classes -----------------------------------------------------------------------
  async classes(body) {
    state.classes = await call('/api/v1/classes');
    const e = state.editing;
    body.append(h('div', { class: 'row list-head' }, h('h2', {}, t('admin.kind.classes')), newButton('classes')),
      table('classes-table', [t('admin.field.code'), t('admin.field.name'), t('admin.field.rank'), t('admin.field.weight'), ''],
        state.classes.map((c) => h('tr', { 'data-id': c.id },
          h('td', {}, c.code), h('td', {}, localized(c.name)), h('td', { class: 'num' }, num(c.rank)), h('td', { class: 'num' }, num(c.weight)),
          h('td', { class: 'row' }, editButton('classes', c), mayWrite('classes') ? deleteButton(`/api/v1/classes/${c.id}`, c.code) : null)))));
    if (e?.kind === 'classes') body.append(classForm(e.record));
  },

  // ---- Devices --------------------------------------------------------------------------------
  async devices(body) {
    if (!state.branch) return;
    const devices = await call(`/api/v1/branches/${state.branch}/devices`);
    const e = state.editing;
    body.append(h('div', { class: 'row list-head' }, h('h2', {}, t('admin.kind.devices')), newButton('devices')),
      table('devices-table', [t('admin.field.name'), t('admin.field.kind'), t('admin.field.language'), ''],
        devices.map((d) => h('tr', { 'data-id': d.id },
          h('td', {}, d.name), h('td', {}, t(`admin.deviceKind.${d.kind}`)), h('td', {}, d.language || '–'),
          h('td', { class: 'row' }, deleteButton(`/api/v1/branches/${state.branch}/devices/${d.id}`, d.name))))));
    if (e?.kind === 'devices') body.append(deviceForm());
    if (state.newToken) {
      body.append(h('section', { class: 'card token', id: 'device-token' }, h('h3', {}, t('admin.deviceToken')),
        h('p', {}, t('admin.deviceTokenHelp')), h('code', {}, state.newToken)));
      state.newToken = null;
    }
  },

  // ---- Screens --------------------------------------------------------------------------------
  async screens(body) {
    if (!state.branch) return;
    const [screens, layouts, devices] = await Promise.all([
      call(`/api/v1/branches/${state.branch}/screens`), call('/api/v1/layouts'),
      call(`/api/v1/branches/${state.branch}/devices`)]);
    const e = state.editing;
    body.append(h('div', { class: 'row list-head' }, h('h2', {}, t('admin.kind.screens')), newButton('screens')),
      table('screens-table', [t('admin.field.name'), t('admin.field.language'), t('admin.field.layout'), t('admin.field.device'), ''],
        screens.map((s) => h('tr', { 'data-id': s.id },
          h('td', {}, s.name), h('td', {}, s.language), h('td', {}, layouts.find((l) => l.id === s.layout)?.name || s.layout),
          h('td', {}, devices.find((d) => d.id === s.device)?.name || '–'),
          h('td', { class: 'row' }, editButton('screens', s), deleteButton(`/api/v1/branches/${state.branch}/screens/${s.id}`, s.name))))));
    if (e?.kind === 'screens') body.append(screenForm(e.record, layouts, devices));
  },

  // ---- Customers (found by their number) ------------------------------------------------------
  async customers(body) {
    state.classes = await call('/api/v1/classes');
    const number = input('number', t('admin.field.customerNumber'), state.customerNumber || '', { id: 'customer-search', required: true, inputmode: 'numeric' });
    const find = h('button', { type: 'submit', class: 'primary' }, t('admin.find'));
    const found = h('div', { id: 'customer-found' });
    const search = async () => {
      state.customerNumber = number.el.value.trim();
      find.disabled = true;
      try {
        const customer = await call(`/api/v1/customers?number=${encodeURIComponent(state.customerNumber)}`);
        state.editing = { kind: 'customers', record: customer };
        found.replaceChildren(customerForm(customer), await visits(customer));
      } catch (err) {
        if (err.code === 'customer_not_found') {
          found.replaceChildren(h('p', { class: 'card', role: 'alert' }, t('admin.customerNotFound', { number: state.customerNumber })));
        } else showError(err);
      } finally {
        find.disabled = false;
      }
    };
    body.append(h('div', { class: 'row list-head' }, h('h2', {}, t('admin.kind.customers')), newButton('customers')),
      h('form', { class: 'card toolbar', onsubmit: (e) => { e.preventDefault(); search(); } }, number.row, find),
      found);
    const e = state.editing;
    if (e?.kind === 'customers' && !e.record) found.append(customerForm(null));
    else if (state.customerNumber) await search();
  },

  layouts: (body) => jsonKind(body, 'layouts', '/api/v1/layouts', ['name', 'zones'], { name: '', zones: [] }),
  playlists: (body) => jsonKind(body, 'playlists', '/api/v1/playlists', ['name', 'items', 'targets'], { name: '', items: [], targets: { type: 'all' } }),
  surveys: (body) => surveyKind(body),

  // ---- The organization -----------------------------------------------------------------------
  async organization(body) {
    const org = await call('/api/v1/organization');
    body.append(h('section', { class: 'card' }, h('h2', {}, t('admin.kind.organization')),
      h('dl', { class: 'facts' },
        state.languages.map((l) => [h('dt', {}, `${t('admin.field.name')} (${l.name})`), h('dd', { lang: l.code, dir: l.dir }, org.name?.[l.code] || '–')]),
        h('dt', {}, t('admin.field.defaultLanguage')), h('dd', {}, org.default_language),
        h('dt', {}, t('admin.field.branchCount')), h('dd', {}, num(state.branches.length))),
      h('p', { class: 'muted' }, t('admin.orgReadOnly'))));
  },
};

// ---------------------------------------------------------------------------------------------
// The forms

function hoursSummary(hours) {
  return hours.map((x) => `${t(`admin.day.${x.day}`)} ${x.open.slice(0, 5)}–${x.close.slice(0, 5)}`).join(', ');
}

function timeZones() {
  try { return Intl.supportedValuesOf('timeZone'); } catch (e) { return ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tehran']; }
}

function branchForm(record) {
  const write = mayWrite('branches');
  const b = record || {
    id: uuid(), organization: state.me.organization, name: {}, time_zone: 'Europe/Berlin',
    opening_hours: DAYS.slice(0, 5).map((day) => ({ day, open: '09:00:00', close: '17:00:00' })),
    queue: { recall_limit: 2, appointment_early_secs: 600, appointment_grace_secs: 600, service_time_alpha: 0.005, arrival_rate_alpha: 0.02, turn_near_ahead: 3, turn_near_wait_secs: 300 },
  };
  const name = localizedInputs('branch-name', t('admin.field.name'), b.name);
  const listId = fieldId('zones');
  const tz = input('time_zone', t('admin.field.timeZone'), b.time_zone, { list: listId, required: true });
  const zones = h('datalist', { id: listId }, timeZones().map((z) => h('option', { value: z })));
  const hoursBody = h('tbody', {});
  const addHour = (x) => {
    const day = h('select', { 'aria-label': t('admin.field.day') }, DAYS.map((d) => h('option', { value: d, selected: d === x.day }, t(`admin.day.${d}`))));
    const time = (v) => (v.length === 5 || v.endsWith(':00') ? v.slice(0, 5) : v);
    const open = h('input', { type: 'time', step: x.open.endsWith(':00') ? 60 : 1, value: time(x.open), required: true, 'aria-label': t('admin.field.open') });
    const close = h('input', { type: 'time', step: x.close.endsWith(':00') ? 60 : 1, value: time(x.close), required: true, 'aria-label': t('admin.field.close') });
    const row = h('tr', { class: 'hour' }, h('td', {}, day), h('td', {}, open), h('td', {}, close),
      h('td', {}, h('button', { type: 'button', onclick: () => row.remove() }, t('admin.remove'))));
    const full = (v) => (v.length === 5 ? `${v}:00` : v.slice(0, 8));
    row.read = () => ({ day: day.value, open: full(open.value), close: full(close.value) });
    hoursBody.append(row);
  };
  b.opening_hours.forEach(addHour);
  const hours = h('fieldset', { class: 'field wide' }, h('legend', {}, t('admin.field.hours')),
    h('table', { class: 'hours' }, h('thead', {}, h('tr', {}, h('th', {}, t('admin.field.day')), h('th', {}, t('admin.field.open')), h('th', {}, t('admin.field.close')), h('th', {}))), hoursBody),
    h('button', { type: 'button', onclick: () => addHour({ day: 'Mon', open: '09:00', close: '17:00' }) }, t('admin.addHours')));
  const q = b.queue;
  const qf = {
    recall_limit: input('recall_limit', t('admin.field.recallLimit'), q.recall_limit, { type: 'number', min: 0, required: true }),
    appointment_early_secs: input('appointment_early_secs', t('admin.field.earlySecs'), q.appointment_early_secs, { type: 'number', min: 0, required: true }),
    appointment_grace_secs: input('appointment_grace_secs', t('admin.field.graceSecs'), q.appointment_grace_secs, { type: 'number', min: 0, required: true }),
    turn_near_ahead: input('turn_near_ahead', t('admin.field.nearAhead'), q.turn_near_ahead, { type: 'number', min: 0, required: true }),
    turn_near_wait_secs: input('turn_near_wait_secs', t('admin.field.nearWait'), q.turn_near_wait_secs, { type: 'number', min: 0, required: true }),
  };
  const rows = [name.rows, tz.row, zones, hours, Object.values(qf).map((f) => f.row)];
  const save = async () => {
    const queue = { ...q };
    for (const [k, f] of Object.entries(qf)) queue[k] = Number(f.el.value);
    const body = {
      id: b.id, organization: b.organization, name: name.read(), time_zone: tz.el.value.trim(),
      opening_hours: [...hoursBody.querySelectorAll('tr.hour')].map((r) => r.read()), queue,
    };
    await call(`/api/v1/branches/${b.id}`, { method: 'PUT', body });
    await refreshBranches();
  };
  return readOnlyOr(write, editForm(record ? t('admin.editTitle', { what: localized(b.name) }) : t('admin.new.branches'), rows, save));
}

function readOnlyOr(write, form) {
  if (!write) {
    for (const el of form.querySelectorAll('input, select, textarea, button[type=submit]')) el.disabled = true;
  }
  return form;
}

function serviceForm(record) {
  const s = record || { id: uuid(), prefix: '', name: {}, expected_service_secs: 300, target_wait_secs: 600, max_wait_secs: null, daily_cap: null, takes_appointments: false };
  const prefix = input('prefix', t('admin.field.prefix'), s.prefix, { required: true, maxlength: 3, id: 'service-prefix' });
  const name = localizedInputs('service-name', t('admin.field.name'), s.name);
  const expected = input('expected', t('admin.field.expected'), s.expected_service_secs, { type: 'number', min: 0, required: true });
  const target = input('target', t('admin.field.target'), s.target_wait_secs, { type: 'number', min: 0, required: true });
  const max = input('max', t('admin.field.maxWait'), s.max_wait_secs, { type: 'number', min: 0 });
  const cap = input('cap', t('admin.field.dailyCap'), s.daily_cap, { type: 'number', min: 0 });
  const appointments = checkbox('appointments', t('admin.field.appointments'), s.takes_appointments);
  const branch = state.branch;
  return readOnlyOr(mayWrite('services'), editForm(record ? t('admin.editTitle', { what: localized(s.name) }) : t('admin.new.services'),
    [prefix.row, name.rows, expected.row, target.row, max.row, cap.row, appointments.row],
    () => call(`/api/v1/branches/${branch}/services/${s.id}`, {
      method: 'PUT',
      body: {
        id: s.id, prefix: prefix.el.value.trim(), name: name.read(),
        expected_service_secs: Number(expected.el.value), target_wait_secs: Number(target.el.value),
        max_wait_secs: optNumber(max.el), daily_cap: optNumber(cap.el), takes_appointments: appointments.el.checked,
      },
    })));
}

function counterForm(record, config) {
  const k = record || { id: uuid(), number: Math.max(0, ...config.counters.map((c) => c.number)) + 1, name: null, profile: { services: [], classes: null, policy: 'strict' } };
  const number = input('number', t('admin.field.number'), k.number, { type: 'number', min: 1, required: true, id: 'counter-number' });
  const name = localizedInputs('counter-name', t('admin.field.name'), k.name || {}, { required: false });
  const policy = select('policy', t('admin.field.policy'), POLICIES.map((p) => [p, t(`admin.policy.${p}`)]), k.profile.policy);
  const svcRows = config.services.map((s) => {
    const p = k.profile.services.find((x) => x.service === s.id);
    const use = h('input', { type: 'checkbox', checked: !!p, id: fieldId(`use-${s.prefix}`), 'data-service': s.id });
    const rank = h('input', { type: 'number', min: 1, value: p?.rank ?? 1, 'aria-label': `${t('admin.field.rank')} ${s.prefix}` });
    const weight = h('input', { type: 'number', min: 1, value: p?.weight ?? 1, 'aria-label': `${t('admin.field.weight')} ${s.prefix}` });
    return { s, use, rank, weight, row: h('tr', {}, h('td', {}, use, ' ', h('label', { for: use.id, class: 'inline' }, `${s.prefix} – ${localized(s.name)}`)), h('td', {}, rank), h('td', {}, weight)) };
  });
  const services = h('fieldset', { class: 'field wide' }, h('legend', {}, t('admin.field.profile')),
    h('table', { class: 'profile' }, h('thead', {}, h('tr', {}, h('th', {}, t('common.service')), h('th', {}, t('admin.field.rank')), h('th', {}, t('admin.field.weight')))),
      h('tbody', {}, svcRows.map((r) => r.row))),
    h('p', { class: 'muted' }, t('admin.profileHelp')));
  const classBoxes = config.classes.map((c) => [c.id, checkbox(`class-${c.code}`, localized(c.name), k.profile.classes?.includes(c.id))]);
  const classes = h('fieldset', { class: 'field wide' }, h('legend', {}, t('admin.field.classes')),
    h('div', { class: 'row' }, classBoxes.map(([, c]) => c.row)), h('p', { class: 'muted' }, t('admin.classesHelp')));
  const branch = state.branch;
  return readOnlyOr(mayWrite('counters'), editForm(record ? t('admin.editTitle', { what: `${t('common.counter')} ${num(k.number)}` }) : t('admin.new.counters'),
    [number.row, name.rows, policy.row, services, classes],
    () => {
      const chosen = classBoxes.filter(([, c]) => c.el.checked).map(([id]) => id);
      const n = name.read();
      return call(`/api/v1/branches/${branch}/counters/${k.id}`, {
        method: 'PUT',
        body: {
          id: k.id, number: Number(number.el.value), name: Object.keys(n).length ? n : null,
          profile: {
            services: svcRows.filter((r) => r.use.checked).map((r) => ({ service: r.s.id, rank: Number(r.rank.value), weight: Number(r.weight.value) })),
            classes: chosen.length ? chosen : null,
            policy: policy.el.value,
          },
        },
      });
    }));
}

function userForm(record) {
  const u = record || { id: uuid(), login: '', name: '', role: 'agent', branches: [], agent: null, language: null, active: true };
  const login = input('login', t('admin.field.login'), u.login, { required: true, autocomplete: 'off' });
  const name = input('name', t('admin.field.name'), u.name, { required: true });
  const role = select('role', t('admin.field.role'), ROLES.map((r) => [r, t(`admin.role.${r}`)]), u.role);
  const branches = branchChecks('user-branch', u.branches);
  const agent = select('agent', t('admin.field.agent'), [['', t('common.none')], ...state.agents.map((a) => [a.id, a.name])], u.agent || '');
  const language = select('language', t('admin.field.language'), [['', t('admin.orgDefault')], ...state.languages.map((l) => [l.code, l.name])], u.language || '');
  const password = input('password', record ? t('admin.field.newPassword') : t('admin.field.password'), '', { type: 'password', autocomplete: 'new-password', required: !record });
  const active = checkbox('active', t('admin.field.active'), u.active);
  return editForm(record ? t('admin.editTitle', { what: u.login }) : t('admin.new.users'),
    [login.row, name.row, role.row, branches.row, agent.row, language.row, password.row, active.row],
    () => call(`/api/v1/users/${u.id}`, {
      method: 'PUT',
      body: {
        login: login.el.value.trim(), name: name.el.value.trim(), role: role.el.value, branches: branches.read(),
        agent: agent.el.value || null, language: language.el.value || null,
        password: password.el.value ? password.el.value : null, active: active.el.checked,
      },
    }));
}

function agentForm(record) {
  const a = record || { id: uuid(), organization: state.me.organization, name: '', branches: [] };
  const name = input('name', t('admin.field.name'), a.name, { required: true });
  const branches = branchChecks('agent-branch', a.branches);
  return readOnlyOr(mayWrite('agents'), editForm(record ? t('admin.editTitle', { what: a.name }) : t('admin.new.agents'), [name.row, branches.row],
    () => call(`/api/v1/agents/${a.id}`, { method: 'PUT', body: { id: a.id, organization: a.organization, name: name.el.value.trim(), branches: branches.read() } })));
}

function targetsText(targets) {
  if (targets.type === 'all') return t('admin.targets.all');
  if (targets.type === 'branches') return targets.ids.map(branchName).join(', ');
  return t('admin.targets.screensCount', { n: targets.ids.length });
}

/** `datetime-local` value of an instant, in this browser's zone. */
function localInput(value) {
  if (!value) return '';
  const d = new Date(value);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function newsForm(record) {
  const n = record || { title: {}, body: {}, publish_from: null, publish_until: null, targets: isAdmin() ? { type: 'all' } : { type: 'branches', ids: state.branches.map((b) => b.id) }, priority: 'normal' };
  const title = localizedInputs('news-title', t('admin.field.title'), n.title);
  const text = localizedInputs('news-body', t('admin.field.body'), n.body, { required: false, area: true });
  const from = input('from', t('admin.field.from'), localInput(n.publish_from), { type: 'datetime-local' });
  const until = input('until', t('admin.field.until'), localInput(n.publish_until), { type: 'datetime-local' });
  const kinds = [...(isAdmin() ? [['all', t('admin.targets.all')]] : []), ['branches', t('admin.targets.branches')]];
  if (n.targets.type === 'screens') kinds.push(['screens', t('admin.targets.screens')]);
  const target = select('targets', t('admin.field.targets'), kinds, n.targets.type);
  const branches = branchChecks('news-branch', n.targets.type === 'branches' ? n.targets.ids : []);
  const priority = select('priority', t('admin.field.priority'), ['normal', 'high', 'urgent'].map((p) => [p, t(`admin.priority.${p}`)]), n.priority);
  const help = h('p', { class: 'muted' }, t('admin.zoneHelp', { zone: Intl.DateTimeFormat().resolvedOptions().timeZone }));
  return editForm(record ? t('admin.editTitle', { what: localized(n.title) }) : t('admin.new.news'),
    [title.rows, text.rows, from.row, until.row, help, priority.row, target.row, branches.row],
    () => {
      const targets = target.el.value === 'all' ? { type: 'all' }
        : target.el.value === 'screens' ? n.targets : { type: 'branches', ids: branches.read() };
      const body = {
        title: title.read(), body: text.read(), targets, priority: priority.el.value,
        publish_from: from.el.value ? new Date(from.el.value).toISOString() : null,
        publish_until: until.el.value ? new Date(until.el.value).toISOString() : null,
      };
      return record ? call(`/api/v1/news/${n.id}`, { method: 'PUT', body }) : call('/api/v1/news', { method: 'POST', body });
    });
}

function customerForm(record) {
  const c = record || { id: uuid(), number: state.customerNumber || '', class: null, language: null };
  const number = input('customer-number', t('admin.field.customerNumber'), c.number, { required: true, id: 'customer-number' });
  const kind = select('customer-class', t('admin.field.class'), [['', t('admin.noClass')], ...state.classes.map((x) => [x.id, localized(x.name)])], c.class || '');
  const language = select('customer-language', t('admin.field.language'), [['', t('admin.orgDefault')], ...state.languages.map((l) => [l.code, l.name])], c.language || '');
  return readOnlyOr(mayWrite('customers'), editForm(record ? t('admin.editTitle', { what: c.number }) : t('admin.new.customers'),
    [number.row, kind.row, language.row],
    async () => {
      const saved = await call(`/api/v1/customers/${c.id}`, {
        method: 'PUT', body: { number: number.el.value.trim(), class: kind.el.value || null, language: language.el.value || null },
      });
      state.customerNumber = saved.number;
    }));
}

async function visits(customer) {
  let list;
  try { list = await call(`/api/v1/customers/${customer.id}/visits?limit=10`); } catch (err) { showError(err); return h('p', {}); }
  return h('section', { class: 'card' }, h('h3', {}, t('admin.visits')),
    table('visits-table', [t('admin.field.when'), t('common.branch'), t('common.ticket'), t('admin.field.outcome'), t('common.waiting')],
      list.map((v) => h('tr', {},
        h('td', {}, formatDateTime(v.issued_at, state.branches.find((b) => b.id === v.branch)?.time_zone)),
        h('td', {}, branchName(v.branch)), h('td', {}, v.display),
        h('td', {}, t(`admin.outcome.${v.outcome}`)),
        h('td', { class: 'num' }, v.wait_secs == null ? '–' : formatDuration(v.wait_secs))))));
}

function classForm(record) {
  const c = record || { id: uuid(), code: '', name: {}, rank: state.classes.length + 1, weight: 1 };
  const code = input('code', t('admin.field.code'), c.code, { required: true });
  const name = localizedInputs('class-name', t('admin.field.name'), c.name);
  const rank = input('rank', t('admin.field.rank'), c.rank, { type: 'number', min: 0, required: true });
  const weight = input('weight', t('admin.field.weight'), c.weight, { type: 'number', min: 0, required: true });
  return readOnlyOr(mayWrite('classes'), editForm(record ? t('admin.editTitle', { what: c.code }) : t('admin.new.classes'), [code.row, name.rows, rank.row, weight.row],
    () => call(`/api/v1/classes/${c.id}`, { method: 'PUT', body: { id: c.id, code: code.el.value.trim(), name: name.read(), rank: Number(rank.el.value), weight: Number(weight.el.value) } })));
}

function deviceForm() {
  const kind = select('kind', t('admin.field.kind'), [['kiosk', t('admin.deviceKind.kiosk')], ['display', t('admin.deviceKind.display')]], 'kiosk');
  const name = input('name', t('admin.field.name'), '', { required: true });
  const language = select('language', t('admin.field.language'), [['', t('admin.orgDefault')], ...state.languages.map((l) => [l.code, l.name])], '');
  const branch = state.branch;
  return editForm(t('admin.new.devices'), [kind.row, name.row, language.row], async () => {
    const answer = await call(`/api/v1/branches/${branch}/devices`, {
      method: 'POST', body: { kind: kind.el.value, name: name.el.value.trim(), language: language.el.value || null },
    });
    state.newToken = answer.token;
  }, { submitLabel: t('admin.register') });
}

function screenForm(record, layouts, devices) {
  const s = record || { name: '', language: state.languages[0]?.code || 'en', layout: layouts[0]?.id, device: null };
  const name = input('name', t('admin.field.name'), s.name, { required: true });
  const language = select('language', t('admin.field.language'), state.languages.map((l) => [l.code, l.name]), s.language);
  const layout = select('layout', t('admin.field.layout'), layouts.map((l) => [l.id, l.name]), s.layout);
  const device = select('device', t('admin.field.device'), [['', t('common.none')], ...devices.filter((d) => d.kind === 'display').map((d) => [d.id, d.name])], s.device || '');
  const branch = state.branch;
  return editForm(record ? t('admin.editTitle', { what: s.name }) : t('admin.new.screens'), [name.row, language.row, layout.row, device.row], () => {
    const body = { name: name.el.value.trim(), language: language.el.value, layout: layout.el.value, device: device.el.value || null };
    return record ? call(`/api/v1/branches/${branch}/screens/${s.id}`, { method: 'PUT', body })
      : call(`/api/v1/branches/${branch}/screens`, { method: 'POST', body });
  });
}

/** Kinds whose records are edited as JSON (layouts, playlists): a list, and the record's
 *  fields `keys` in a text area. */
async function jsonKind(body, kind, path, keys, blank) {
  const records = await call(path);
  const e = state.editing;
  body.append(h('div', { class: 'row list-head' }, h('h2', {}, t(`admin.kind.${kind}`)), newButton(kind)),
    table(`${kind}-table`, [t('admin.field.name'), ''],
      records.map((r) => h('tr', { 'data-id': r.id }, h('td', {}, r.name),
        h('td', { class: 'row' }, editButton(kind, r), mayWrite(kind) ? deleteButton(`${path}/${r.id}`, r.name) : null)))));
  if (e?.kind !== kind) return;
  const r = e.record || blank;
  const name = input('name', t('admin.field.name'), r.name, { required: true });
  const rest = Object.fromEntries(keys.filter((k) => k !== 'name').map((k) => [k, r[k]]));
  const json = textarea('json', t('admin.field.json'), JSON.stringify(rest, null, 2), { rows: 16, class: 'code', dir: 'ltr', spellcheck: false });
  body.append(readOnlyOr(mayWrite(kind), editForm(e.record ? t('admin.editTitle', { what: r.name }) : t(`admin.new.${kind}`), [name.row, json.row, h('p', { class: 'muted' }, t('admin.jsonHelp'))], () => {
    let parsed;
    try { parsed = JSON.parse(json.el.value); } catch (err) { throw new Error(t('admin.badJson', { message: err.message })); }
    const payload = { ...parsed, name: name.el.value.trim() };
    return e.record ? call(`${path}/${r.id}`, { method: 'PUT', body: payload }) : call(path, { method: 'POST', body: payload });
  })));
}

async function surveyKind(body) {
  const surveys = await call('/api/v1/surveys');
  const e = state.editing;
  body.append(h('div', { class: 'row list-head' }, h('h2', {}, t('admin.kind.surveys')), newButton('surveys')),
    table('surveys-table', [t('admin.field.name'), t('admin.field.title'), t('admin.field.version'), t('admin.field.active'), ''],
      surveys.map((s) => h('tr', { 'data-id': s.id }, h('td', {}, s.name), h('td', {}, localized(s.title)),
        h('td', { class: 'num' }, num(s.version)), h('td', {}, s.active ? t('admin.yes') : t('admin.no')),
        h('td', { class: 'row' }, editButton('surveys', s))))));
  if (e?.kind !== 'surveys') return;
  const s = e.record || {
    name: '', title: {}, active: true,
    questions: [{ key: 'nps', prompt: { en: 'How likely are you to recommend us to a friend?' }, kind: { type: 'nps' }, required: true }],
    triggers: { after_service: null, link: true, kiosk: false },
  };
  const name = input('name', t('admin.field.name'), s.name, { required: true });
  const title = localizedInputs('survey-title', t('admin.field.title'), s.title);
  const active = checkbox('active', t('admin.field.active'), s.active);
  const questions = textarea('questions', t('admin.field.questions'), JSON.stringify(s.questions, null, 2), { rows: 14, class: 'code', dir: 'ltr', spellcheck: false });
  const triggers = textarea('triggers', t('admin.field.triggers'), JSON.stringify(s.triggers, null, 2), { rows: 8, class: 'code', dir: 'ltr', spellcheck: false });
  body.append(readOnlyOr(mayWrite('surveys'), editForm(e.record ? t('admin.editTitle', { what: s.name }) : t('admin.new.surveys'),
    [name.row, title.rows, active.row, questions.row, triggers.row, h('p', { class: 'muted' }, t('admin.surveyHelp'))], () => {
      const parse = (el) => { try { return JSON.parse(el.value); } catch (err) { throw new Error(t('admin.badJson', { message: err.message })); } };
      const definition = { name: name.el.value.trim(), title: title.read(), active: active.el.checked, questions: parse(questions.el), triggers: parse(triggers.el) };
      return e.record ? call(`/api/v1/surveys/${s.id}`, { method: 'PUT', body: { expected_version: s.version, ...definition } })
        : call('/api/v1/surveys', { method: 'POST', body: definition });
    })));
}

// ---------------------------------------------------------------------------------------------

offlineShell();
staffPage('admin', async (me) => {
  state.me = me;
  const hash = location.hash.slice(1);
  if (KINDS.includes(hash)) state.kind = hash;
  try {
    state.languages = await languages();
    await refreshBranches();
  } catch (err) {
    showError(err);
  }
  await draw();
});
