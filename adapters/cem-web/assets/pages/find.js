// The branch finder: the organization's open branches, best first for where the customer is
// (when the phone may say) and what they come for, each with its hours, address, live waits
// and links to join the queue or book; then the branches this phone used before, open or not.
import { t, h, api, num, digits, formatDuration, pathParams, announce } from '/assets/app.js';
import {
  startCustomerPage, frame, problem, branchInfo, openingLine, activeTickets, savedBookings,
  knownBranches, badge, dayText,
} from '/assets/pages/customer-common.js';

const [organization] = pathParams();
const SPEEDS = { walk: 1.4, bike: 4.2, car: 11 };
const REFRESH_MS = 30000;

let position = null; // {lat, lon} once the phone told us
let locating = false;
let service = ''; // a ticket prefix, or every service
let mode = 'walk';
let results = []; // [{best, info}]
let extra = []; // infos of known branches not ranked (closed, elsewhere)
let loaded = false;
let timer = null;

await startCustomerPage();
draw();
await maybeLocate();
await load();

async function maybeLocate() {
  if (!('geolocation' in navigator) || !navigator.permissions) return;
  try {
    const state = await navigator.permissions.query({ name: 'geolocation' });
    if (state.state === 'granted') await locate(false);
  } catch (e) { /* no permission API: wait for the button */ }
}

function locate(asked) {
  if (!('geolocation' in navigator)) return Promise.resolve();
  locating = true;
  draw();
  return new Promise((resolve) => {
    navigator.geolocation.getCurrentPosition((p) => {
      position = { lat: p.coords.latitude, lon: p.coords.longitude };
      locating = false;
      resolve();
    }, () => {
      locating = false;
      if (asked) announce(t('find.noLocation'), 'info');
      resolve();
    }, { timeout: 10000, maximumAge: 300000 });
  });
}

async function load() {
  clearTimeout(timer);
  try {
    const params = new URLSearchParams({
      lat: String(position ? position.lat : 0),
      lon: String(position ? position.lon : 0),
      speed: String(SPEEDS[mode]),
    });
    if (service) params.set('service', service);
    const ranked = await api(`/api/v1/organizations/${encodeURIComponent(organization)}/branches/best?${params}`, { token: null });
    const infos = await Promise.all(ranked.map((b) => branchInfo(b.branch).catch(() => null)));
    results = ranked.map((best, i) => ({ best, info: infos[i] })).filter((r) => r.info);
    if (!position) {
      // Without a place the distances mean nothing: the shortest wait first.
      results.sort((a, b) => (a.best.wait_secs ?? Infinity) - (b.best.wait_secs ?? Infinity));
    }
    const shown = new Set(results.map((r) => r.best.branch));
    const others = knownBranches().filter((b) => !shown.has(b));
    extra = (await Promise.all(others.map((b) => branchInfo(b).catch(() => null))))
      .filter((i) => i && (!service || i.services.some((s) => s.prefix.toUpperCase() === service.toUpperCase())));
    loaded = true;
    announce('');
  } catch (err) {
    problem(err, 'find');
  }
  draw();
  timer = setTimeout(load, REFRESH_MS);
}

function distanceText(m) {
  if (m < 1000) return t('find.metres', { n: Math.round(m / 10) * 10 });
  return t('find.kilometres', { n: num(m / 1000, { maximumFractionDigits: m < 10000 ? 1 : 0 }) });
}

function waits(info) {
  return h('table', { class: 'find-waits' },
    h('caption', { class: 'cust-hint' }, t('find.waitsNow')),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('common.service')),
      h('th', { scope: 'col', class: 'num' }, t('find.waiting')),
      h('th', { scope: 'col', class: 'num' }, t('find.wait')))),
    h('tbody', {}, info.services.map((s) => h('tr', { dataset: { service: s.prefix } },
      h('td', {}, s.name),
      h('td', { class: 'num' }, num(s.waiting)),
      h('td', { class: 'num' }, s.estimated_wait_secs == null ? t('find.noEstimate') : formatDuration(s.estimated_wait_secs))))));
}

function branchCard(info, best) {
  const open = info.open_now;
  return h('article', { class: 'card find-branch', dataset: { branch: info.branch } },
    h('div', { class: 'find-head' },
      h('h2', {}, info.name),
      badge(open ? t('find.open') : t('find.closed'), open ? 'ok' : 'bad')),
    h('p', { class: 'find-hours' }, openingLine(info)),
    info.address ? h('p', { class: 'find-address' }, info.address) : null,
    info.phone ? h('p', {}, h('a', { href: `tel:${info.phone.replace(/\s+/g, '')}`, dir: 'ltr' }, digits(info.phone))) : null,
    best && position ? h('p', { class: 'find-distance' },
      t('find.distance', { distance: distanceText(best.distance_m), travel: formatDuration(best.travel_secs) })) : null,
    info.holidays && info.holidays.length ? h('p', { class: 'cust-hint' },
      t('find.holiday', { date: dayText(info.holidays[0].date, 'short'), name: info.holidays[0].name })) : null,
    waits(info),
    info.news && info.news.length ? h('ul', { class: 'find-news' }, info.news.slice(0, 2).map((n) => h('li', {}, h('strong', {}, n.title), n.body ? ` — ${n.body}` : ''))) : null,
    h('div', { class: 'cust-actions' },
      open ? h('a', { class: 'button primary', href: `/join/${info.branch}` }, t('find.join')) : null,
      h('a', { class: 'button', href: `/booking/${info.branch}` }, t('find.book'))));
}

function draw() {
  const tickets = activeTickets();
  const bookings = savedBookings().filter((b) => b.state !== 'cancelled' && new Date(b.start) > new Date(Date.now() - 3600e3));
  const prefixes = new Map();
  for (const info of [...results.map((r) => r.info), ...extra]) {
    for (const s of info.services) if (!prefixes.has(s.prefix)) prefixes.set(s.prefix, s.name);
  }
  if (service && !prefixes.has(service)) prefixes.set(service, service);
  const serviceSelect = h('select', {
    id: 'find-service',
    onchange: (e) => { service = e.target.value; load(); },
  }, h('option', { value: '' }, t('find.anyService')),
  [...prefixes].map(([p, name]) => h('option', { value: p, selected: p === service }, name)));
  const modeSelect = h('select', {
    id: 'find-mode',
    onchange: (e) => { mode = e.target.value; load(); },
  }, Object.keys(SPEEDS).map((m) => h('option', { value: m, selected: m === mode }, t(`find.mode.${m}`))));
  const locateButton = h('button', {
    type: 'button', class: 'find-locate', disabled: locating,
    onclick: async () => { await locate(true); await load(); },
  }, locating ? t('find.locating') : position ? t('find.relocate') : t('find.useLocation'));
  document.title = t('find.title');
  frame(load,
    h('h1', {}, t('find.title')),
    tickets.length || bookings.length ? h('section', { class: 'card find-mine', 'aria-labelledby': 'find-mine' },
      h('h2', { id: 'find-mine' }, t('find.mine')),
      h('ul', {},
        tickets.map((s) => h('li', {}, h('a', { href: `/track/${s.branch}/${s.ticket}`, class: 'find-ticket' },
          t('find.myTicket', { display: digits(s.display), branch: s.branchName })))),
        bookings.map((b) => h('li', {}, h('a', { href: `/booking/${b.branch}/${b.code}` },
          t('find.myBooking', { code: b.code, branch: b.branchName })))))) : null,
    h('section', { class: 'card find-filters' },
      h('div', { class: 'find-row' },
        h('div', {}, h('label', { for: 'find-service' }, t('find.service')), serviceSelect),
        h('div', {}, h('label', { for: 'find-mode' }, t('find.travel')), modeSelect)),
      h('p', { class: 'cust-hint' }, position ? t('find.byPlace') : t('find.byWait')),
      locateButton),
    h('div', { 'aria-live': 'polite', 'aria-busy': String(!loaded), class: 'find-list' },
      !loaded ? h('p', { class: 'loading' }, t('find.loading')) : null,
      loaded && !results.length ? h('p', { class: 'card find-none' }, t('find.noneOpen')) : null,
      results.map((r) => branchCard(r.info, r.best)),
      extra.length ? h('h2', {}, t('find.others')) : null,
      extra.map((info) => branchCard(info, null))),
  );
}
