// The counter console: an agent signs in, chooses a branch and a counter, opens it and serves
// customers — call next, recall, start, finish, no-show, park, transfer, call a given ticket —
// with the branch's waiting figures, the waiting tickets and the alerts kept live by the
// branch's staff stream, and a known customer's earlier visits beside the ticket.
import {
  chooseLanguage, setLanguage, language, languages, t, num, digits, formatTime, formatDateTime,
  formatDuration, localized, api, stream, session, h, render, announce, showError,
  languagePicker, signInForm, offlineShell,
} from '/assets/app.js';

// ---------------------------------------------------------------------------------------------
// State

/** Everything the page knows; one console at a time. */
const S = {
  me: null,
  branches: [],
  branchId: null,
  /** `GET /api/v1/branches/{id}`: `{branch, classes, services, counters}`. */
  config: null,
  counterId: null,
  /** `GET …/counters/{id}`: status, agent, ticket held, waiting for it. */
  counter: null,
  /** `GET …/status`: waiting per service. */
  status: null,
  /** `GET …/tickets`: the day's live tickets. */
  tickets: [],
  /** Active service-level alerts, by `service/kind`. */
  alerts: new Map(),
  /** What only the staff stream tells of a ticket: `appointment_at`, `recalls`. */
  extra: new Map(),
  /** Today's bookings checked in, by the ticket they got: appointment time, holder's name. */
  bookings: new Map(),
  /** Tickets whose booking was looked for in the agenda. */
  agendaAsked: new Set(),
  /** A customer's visits (or the error reading them), by customer id. */
  visits: new Map(),
  /** A customer's record (`number`, `class`, `language`), by customer id. */
  customers: new Map(),
  /** The languages, by code (`[{code, name, dir}]`). */
  languageNames: [],
  /** The waiting ticket whose details are shown before calling it. */
  selected: null,
  /** The transfer form is open. */
  transferring: false,
  busy: false,
  live: null,
  online: false,
  timer: null,
  ui: null,
};

const userKey = () => `cem.console.${S.me?.user || 'anyone'}`;
const langScope = () => `user.${S.me?.user || 'anyone'}`;

function remembered() {
  try { return JSON.parse(localStorage.getItem(userKey())) || {}; } catch (e) { return {}; }
}

function remember(patch) {
  localStorage.setItem(userKey(), JSON.stringify({ ...remembered(), ...patch }));
}

const base = () => `/api/v1/branches/${encodeURIComponent(S.branchId)}`;
const tz = () => S.config?.branch?.time_zone;
const service = (id) => S.config?.services.find((s) => s.id === id);
const serviceName = (id) => (service(id) ? localized(service(id).name) : '–');
const counterRecord = (id = S.counterId) => S.config?.counters.find((c) => c.id === id);
const classOf = (code) => S.config?.classes.find((c) => c.code === code);
const held = () => S.counter?.ticket || null;
const show = (display) => digits(display);

// ---------------------------------------------------------------------------------------------
// Errors: the console's own text for each code the queue answers, in the user's language

function fail(err) {
  const key = err && err.code ? `console.errors.${err.code}` : null;
  if (key && t(key) !== key) {
    console.error(err);
    announce(t(key), 'error');
  } else {
    showError(err);
  }
  if (err && err.status === 401) {
    session.clear();
    start();
  }
}

// ---------------------------------------------------------------------------------------------
// Start: sign in, branch, counter

async function start() {
  stopLive();
  const me = await session.me().catch((e) => { fail(e); return null; });
  if (!me) {
    S.me = null;
    await setLanguage(await chooseLanguage('user'));
    return drawSignIn();
  }
  await signedIn(me);
}

async function signedIn(me) {
  S.me = me;
  S.languageNames = await languages();
  await setLanguage(await chooseLanguage(langScope(), me.language || undefined), langScope());
  // The last language on this browser, for the next sign-in form.
  localStorage.setItem('cem.lang.user', language().code);
  if (!['agent', 'branch_manager', 'admin'].includes(me.role)) {
    return drawMessage(t('console.notStaff'), true);
  }
  try {
    S.branches = await api('/api/v1/branches');
  } catch (e) {
    fail(e);
    return drawMessage(t('console.noBranches'), true);
  }
  if (me.branches?.length) S.branches = S.branches.filter((b) => me.branches.includes(b.id));
  if (!S.branches.length) return drawMessage(t('console.noBranches'), true);
  const last = remembered();
  const branch = S.branches.find((b) => b.id === last.branch) || (S.branches.length === 1 ? S.branches[0] : null);
  if (!branch) return drawBranches();
  await chooseBranch(branch.id, last.counter);
}

async function chooseBranch(id, counter) {
  S.branchId = id;
  S.visits.clear();
  S.customers.clear();
  S.extra.clear();
  S.bookings.clear();
  S.agendaAsked.clear();
  try {
    S.config = await api(base());
  } catch (e) {
    fail(e);
    return drawBranches();
  }
  remember({ branch: id });
  if (counter && S.config.counters.some((c) => c.id === counter)) {
    // The counter used last, unless another agent has it now.
    const state = await api(`${base()}/counters/${encodeURIComponent(counter)}`).catch(() => null);
    const taken = state?.agent && state.agent !== S.me.agent && S.me.role === 'agent';
    if (state && !taken) return openConsole(counter);
  }
  return drawCounters();
}

function header(title) {
  const right = [];
  if (S.me) {
    right.push(h('span', { class: 'who' }, t('console.signedInAs', { name: S.me.name || '' })));
  }
  const picker = h('span', { class: 'picker' });
  languagePicker(async (code) => {
    await setLanguage(code, S.me ? langScope() : 'user');
    // The last message was in the other language.
    announce('');
    if (S.me) localStorage.setItem('cem.lang.user', code);
    redraw();
  }).then((nav) => picker.append(nav));
  right.push(picker);
  if (S.me && S.counterId && S.ui) {
    right.push(h('button', { type: 'button', id: 'change-counter', onclick: () => { stopLive(); S.counterId = null; remember({ counter: null }); drawCounters(); } }, t('console.changeCounter')));
  }
  if (S.me) {
    right.push(h('button', { type: 'button', id: 'sign-out', onclick: signOut }, t('common.signOut')));
  }
  return h('header', { class: 'bar console-bar' }, h('h1', { id: 'console-title' }, title), h('div', { class: 'row' }, right));
}

let redraw = () => start();

function drawSignIn() {
  redraw = drawSignIn;
  document.title = t('console.title');
  render(
    header(t('console.title')),
    h('p', { class: 'muted intro' }, t('console.intro')),
    signInForm(async (me) => {
      announce('');
      await signedIn(me);
    }),
  );
  document.getElementById('login')?.focus();
}

function drawMessage(text, signOutToo) {
  redraw = () => drawMessage(text, signOutToo);
  render(header(t('console.title')), h('p', { class: 'card', role: 'alert' }, text));
}

function drawBranches() {
  redraw = drawBranches;
  document.title = t('console.title');
  render(
    header(t('console.title')),
    h('section', { class: 'card choose', 'aria-labelledby': 'choose-branch' },
      h('h2', { id: 'choose-branch' }, t('console.chooseBranch')),
      h('ul', { class: 'choices' }, S.branches.map((b) => h('li', {},
        h('button', { type: 'button', class: 'choice', dataset: { branch: b.id }, onclick: () => chooseBranch(b.id) },
          localized(b.name)))))),
  );
}

async function drawCounters() {
  redraw = drawCounters;
  S.ui = null;
  let states = [];
  try {
    states = await api(`${base()}/counters`);
  } catch (e) {
    fail(e);
  }
  const branchName = localized(S.config.branch.name);
  document.title = `${t('console.title')} · ${branchName}`;
  const items = S.config.counters.slice().sort((a, b) => a.number - b.number).map((c) => {
    const state = states.find((s) => s.id === c.id);
    const status = state?.status || 'closed';
    const mine = state?.agent && S.me.agent && state.agent === S.me.agent;
    const taken = state?.agent && !mine && S.me.role === 'agent';
    const services = c.profile.services.map((p) => serviceName(p.service)).join(language().dir === 'rtl' ? '، ' : ', ');
    return h('li', {},
      h('button', {
        type: 'button', class: 'choice counter-choice', dataset: { counter: String(c.number) }, disabled: Boolean(taken),
        onclick: () => openConsole(c.id),
      },
      h('strong', {}, t('console.counterN', { n: c.number })),
      h('span', { class: `badge status-${status}` }, t(`console.counterStatus.${status}`)),
      mine ? h('span', { class: 'badge ok' }, t('console.yours')) : null,
      taken ? h('span', { class: 'badge bad' }, t('console.inUse')) : null,
      h('span', { class: 'muted' }, t('console.serves', { services })),
      state ? h('span', { class: 'muted' }, t('console.forYou', { n: state.waiting })) : null));
  });
  render(
    header(`${t('console.title')} · ${branchName}`),
    S.branches.length > 1 ? h('p', {}, h('button', { type: 'button', id: 'change-branch', onclick: drawBranches }, t('console.chooseBranch'))) : null,
    h('section', { class: 'card choose', 'aria-labelledby': 'choose-counter' },
      h('h2', { id: 'choose-counter' }, t('console.chooseCounter')),
      h('ul', { class: 'choices' }, items)),
  );
}

async function signOut() {
  stopLive();
  await session.signOut();
  S.me = null;
  S.counterId = null;
  S.ui = null;
  announce('');
  drawSignIn();
}

// ---------------------------------------------------------------------------------------------
// The console

async function openConsole(counterId) {
  S.counterId = counterId;
  S.selected = null;
  S.transferring = false;
  remember({ counter: counterId });
  buildConsole();
  await refresh();
  await loadAlerts();
  startLive();
}

function setBusy(on) {
  S.busy = on;
  if (S.ui) S.ui.root.setAttribute('aria-busy', String(on));
  updateButtons();
}

/** Runs one request with every action button disabled; a failure shows its code's text. */
async function run(work) {
  if (S.busy) return;
  setBusy(true);
  try {
    await work();
  } catch (e) {
    fail(e);
  } finally {
    setBusy(false);
    scheduleRefresh(0);
  }
}

async function counterAction(action, doneKey, body) {
  const before = held();
  await run(async () => {
    S.counter = await api(`${base()}/counters/${encodeURIComponent(S.counterId)}/${action}`, { method: 'POST', body });
    const now = held();
    const ticket = show((now || before)?.display || '');
    let key = doneKey;
    if (action === 'recall' && !now) key = 'recallNoShow';
    announce(t(`console.done.${key}`, { ticket }), 'ok');
    if (['call-next', 'call'].includes(action)) S.selected = null;
    updateAll();
  });
}

async function ticketAction(ticket, path, body, message) {
  await run(async () => {
    await api(`${base()}/tickets/${encodeURIComponent(ticket.id)}/${path}`, { method: 'POST', body });
    announce(message, 'ok');
    S.transferring = false;
    S.counter = await api(`${base()}/counters/${encodeURIComponent(S.counterId)}`);
    updateAll();
  });
}

/** The actions on the held ticket: which is valid in which state, and its shortcut key. */
const ACTIONS = [
  { id: 'call-next', key: 'callNext', code: 'KeyN', label: 'N', valid: (c, tk) => c.status === 'open' && !tk },
  { id: 'recall', key: 'recall', code: 'KeyR', label: 'R', valid: (c, tk) => tk?.state === 'called' },
  { id: 'start', key: 'start', code: 'KeyS', label: 'S', valid: (c, tk) => tk?.state === 'called' },
  { id: 'finish', key: 'finish', code: 'KeyF', label: 'F', valid: (c, tk) => Boolean(tk) },
  { id: 'no-show', key: 'noShow', code: 'KeyM', label: 'M', valid: (c, tk) => tk?.state === 'called' },
  { id: 'park', key: 'park', code: 'KeyP', label: 'P', valid: (c, tk) => Boolean(tk) },
  { id: 'transfer', key: 'transfer', code: 'KeyT', label: 'T', valid: (c, tk) => Boolean(tk) },
];

function buildConsole() {
  const ui = {};
  S.ui = ui;
  redraw = () => { buildConsole(); updateAll(); };
  ui.buttons = {};
  for (const a of ACTIONS) {
    ui.buttons[a.id] = h('button', {
      type: 'button', class: a.id === 'call-next' ? 'primary action' : 'action', dataset: { action: a.id },
      'aria-keyshortcuts': a.label,
      onclick: () => {
        if (a.id === 'transfer') {
          S.transferring = !S.transferring;
          updateTransfer();
          ui.transfer.querySelector('select, input')?.focus();
          return;
        }
        counterAction(a.id, a.key);
      },
    }, t(`console.action.${a.key}`), h('kbd', { 'aria-hidden': 'true' }, a.label));
  }
  ui.open = h('button', { type: 'button', class: 'primary', dataset: { action: 'open' }, onclick: () => counterAction('open', 'open') }, t('console.open'));
  ui.pause = h('button', { type: 'button', dataset: { action: 'pause' }, onclick: () => counterAction('pause', 'pause') }, t('console.pause'));
  ui.resume = h('button', { type: 'button', dataset: { action: 'resume' }, onclick: () => counterAction('open', 'open') }, t('console.resume'));
  ui.close = h('button', { type: 'button', dataset: { action: 'close' }, onclick: () => counterAction('close', 'close') }, t('console.close'));
  ui.counterStatus = h('span', { id: 'counter-status', class: 'badge' });
  ui.liveState = h('span', { id: 'live-state', class: 'badge' });
  ui.hint = h('p', { id: 'counter-hint', class: 'hint' });
  ui.ticket = h('div', { id: 'ticket', class: 'ticket' });
  ui.transfer = h('div', { id: 'transfer' });
  ui.customer = h('div', { id: 'customer' });
  // Only the two totals are read out when they change, not the whole table.
  ui.forCounter = h('span', { id: 'waiting-for-counter', class: 'big' });
  ui.inBranch = h('span', { id: 'waiting-total', class: 'big' });
  ui.totals = h('div', { class: 'totals' },
    h('div', { class: 'total', 'aria-live': 'polite', 'aria-atomic': 'true' }, ui.forCounter, h('span', {}, t('console.forThisCounter'))),
    h('div', { class: 'total', 'aria-live': 'polite', 'aria-atomic': 'true' }, ui.inBranch, h('span', {}, t('console.inBranch'))));
  ui.figures = h('div', { id: 'figures' });
  ui.alerts = h('div', { id: 'alerts', role: 'alert' });
  ui.list = h('div', { id: 'waiting-list' });
  ui.parked = h('div', { id: 'parked-list' });
  ui.preview = h('div', { id: 'preview' });
  const number = counterRecord()?.number ?? '';
  const title = t('console.counterAt', { n: number, branch: localized(S.config.branch.name) });
  document.title = `${title} · ${t('console.title')}`;
  ui.root = h('div', { class: 'console', 'aria-busy': 'false' },
    h('div', { class: 'console-main' },
      h('section', { class: 'card current', 'aria-labelledby': 'at-counter' },
        h('div', { class: 'row spread' },
          h('h2', { id: 'at-counter' }, t('console.atCounter')),
          h('div', { class: 'row' }, ui.counterStatus, ui.liveState)),
        ui.hint,
        ui.ticket,
        h('div', { class: 'actions', role: 'group', 'aria-label': t('console.actionsLabel') },
          ui.open, ACTIONS.map((a) => ui.buttons[a.id])),
        ui.transfer,
        h('div', { class: 'row counter-controls' }, ui.pause, ui.resume, ui.close)),
      ui.customerCard = h('section', { class: 'card customer', 'aria-labelledby': 'customer-title', hidden: true },
        h('h2', { id: 'customer-title' }, t('console.customer.title')), ui.customer),
      h('details', { class: 'card shortcuts' },
        h('summary', {}, t('console.shortcuts')),
        h('p', { class: 'muted' }, t('console.shortcutsHint')),
        h('dl', { class: 'keys' }, ACTIONS.map((a) => [h('dt', {}, h('kbd', {}, a.label)), h('dd', {}, t(`console.action.${a.key}`))])))),
    h('aside', { class: 'console-side' },
      ui.alerts,
      h('section', { class: 'card figures', 'aria-labelledby': 'queue-title' },
        h('h2', { id: 'queue-title' }, t('console.queue')), ui.totals, ui.figures),
      ui.preview,
      h('section', { class: 'card tickets-card', 'aria-labelledby': 'tickets-title' },
        h('h2', { id: 'tickets-title' }, t('console.tickets')), ui.list),
      ui.parked));
  render(header(title), ui.root);
  // Kept open across redraws.
  ui.root.querySelector('details.shortcuts').open = localStorage.getItem('cem.console.shortcuts') !== 'closed';
  ui.root.querySelector('details.shortcuts').addEventListener('toggle', (e) => {
    localStorage.setItem('cem.console.shortcuts', e.target.open ? 'open' : 'closed');
  });
}

// ---------------------------------------------------------------------------------------------
// Updating the console in place (buttons keep their focus)

function updateAll() {
  if (!S.ui || !S.counter) return;
  updateCounter();
  updateTicket();
  updateButtons();
  updateTransfer();
  updateCustomer();
  updateFigures();
  updateList();
  updatePreview();
  updateAlerts();
}

function updateCounter() {
  const { ui, counter } = S;
  ui.counterStatus.className = `badge status-${counter.status}`;
  ui.counterStatus.textContent = t(`console.counterStatus.${counter.status}`);
  ui.liveState.className = `badge ${S.online ? 'ok' : 'bad'}`;
  ui.liveState.textContent = S.online ? t('console.live') : t('console.reconnecting');
  const hint = counter.status === 'closed' ? t('console.closedHint') : counter.status === 'paused' ? t('console.pausedHint') : '';
  ui.hint.textContent = hint;
  ui.hint.hidden = !hint;
}

function updateButtons() {
  const { ui, counter } = S;
  if (!ui || !counter) return;
  const tk = held();
  for (const a of ACTIONS) ui.buttons[a.id].disabled = S.busy || !a.valid(counter, tk);
  ui.buttons.transfer.setAttribute('aria-expanded', String(S.transferring));
  ui.open.hidden = counter.status !== 'closed';
  ui.open.disabled = S.busy;
  ui.pause.hidden = counter.status !== 'open';
  ui.pause.disabled = S.busy;
  ui.resume.hidden = counter.status !== 'paused';
  ui.resume.disabled = S.busy;
  ui.close.hidden = counter.status === 'closed';
  ui.close.disabled = S.busy || Boolean(tk);
  for (const b of S.ui.root.querySelectorAll('button[data-call], button[data-resume], #transfer button[type=submit]')) {
    b.disabled = S.busy || (b.dataset.call != null && !(counter.status === 'open' && !tk));
  }
}

function dl(rows) {
  return h('dl', { class: 'details' }, rows.filter(Boolean).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

/** The details of a ticket: service, class, where it came from, times, appointment. */
function ticketDetails(ticket) {
  const cls = classOf(ticket.class);
  const extra = S.extra.get(ticket.id) || {};
  const booking = S.bookings.get(ticket.id);
  const appointment = booking?.start || extra.appointment_at;
  const since = (Date.now() - new Date(ticket.issued_at).getTime()) / 1000;
  return dl([
    [t('console.details.service'), h('span', { class: 'service-name' }, serviceName(ticket.service))],
    [t('console.details.class'), h('span', { class: `badge class-${ticket.class}` }, cls ? localized(cls.name) : ticket.class)],
    [t('console.details.source'), t(`console.source.${ticket.source}`)],
    [t('console.details.issued'), formatTime(ticket.issued_at, tz())],
    ticket.state === 'waiting' ? [t('console.details.waiting'), formatDuration(since)] : null,
    ticket.state === 'waiting' && ticket.ahead != null ? [t('console.details.ahead'), num(ticket.ahead)] : null,
    ticket.called_at ? [t('console.details.called'), formatTime(ticket.called_at, tz())] : null,
    appointment ? [t('console.details.appointment'), h('span', { class: 'appointment' }, formatTime(appointment, tz()))] : null,
    booking?.holder_name ? [t('console.details.bookedBy'), booking.holder_name] : null,
    extra.recalls ? [t('console.details.recalls'), num(extra.recalls)] : null,
    ticket.customer ? [t('console.details.customer'), t('console.details.known')] : null,
  ]);
}

function updateTicket() {
  const { ui } = S;
  const tk = held();
  if (!tk) {
    replaceKeepingFocus(ui.ticket, h('p', { class: 'muted', id: 'no-ticket' }, S.counter.status === 'closed' ? '' : t('console.noTicket')));
    return;
  }
  replaceKeepingFocus(ui.ticket,
    h('div', { class: 'ticket-head' },
      h('span', { id: 'ticket-number', class: 'huge', dir: 'ltr' }, show(tk.display)),
      h('span', { id: 'ticket-state', class: `badge state-${tk.state}` }, t(`console.ticketState.${tk.state}`)),
      tk.class && tk.class !== 'normal' ? h('span', { class: `badge class-${tk.class}` }, localized(classOf(tk.class)?.name) || tk.class) : null),
    ticketDetails(tk));
}

function updateTransfer() {
  const { ui } = S;
  const tk = held();
  if (!S.transferring || !tk) {
    S.transferring = false;
    ui.transfer.replaceChildren();
    return;
  }
  if (ui.transfer.dataset.ticket === tk.id && ui.transfer.firstChild) return;
  ui.transfer.dataset.ticket = tk.id;
  const kind = (value) => h('label', { class: 'inline' },
    h('input', { type: 'radio', name: 'transfer-kind', value, checked: value === 'service', onchange: pick }),
    t(value === 'service' ? 'console.transfer.toService' : 'console.transfer.toCounter'));
  const services = h('select', { id: 'transfer-service', name: 'service' },
    S.config.services.map((s) => h('option', { value: s.id, selected: s.id === tk.service ? false : undefined }, `${s.prefix} · ${localized(s.name)}`)));
  const firstOther = S.config.services.find((s) => s.id !== tk.service);
  if (firstOther) services.value = firstOther.id;
  const counters = h('select', { id: 'transfer-counter', name: 'counter' },
    S.config.counters.slice().sort((a, b) => a.number - b.number)
      .map((c) => h('option', { value: c.id }, t('console.counterN', { n: c.number }))));
  const otherCounter = S.config.counters.find((c) => c.id !== S.counterId);
  if (otherCounter) counters.value = otherCounter.id;
  const serviceField = h('div', {}, h('label', { for: 'transfer-service' }, t('console.transfer.service')), services);
  const counterField = h('div', { hidden: true }, h('label', { for: 'transfer-counter' }, t('console.transfer.counter')), counters);
  function pick() {
    const toService = form.querySelector('input[name=transfer-kind]:checked').value === 'service';
    serviceField.hidden = !toService;
    counterField.hidden = toService;
  }
  const position = (value) => h('label', { class: 'inline' },
    h('input', { type: 'radio', name: 'transfer-position', value, checked: value === 'last' }),
    t(`console.transfer.${value}`));
  const form = h('form', {
    class: 'transfer-form', 'aria-labelledby': 'transfer-title',
    onsubmit: (e) => {
      e.preventDefault();
      const toService = form.querySelector('input[name=transfer-kind]:checked').value === 'service';
      const to = toService ? { kind: 'service', id: services.value } : { kind: 'counter', id: counters.value };
      const target = toService ? serviceName(services.value) : t('console.counterN', { n: counterRecord(counters.value)?.number ?? '' });
      const positionValue = form.querySelector('input[name=transfer-position]:checked').value;
      ticketAction(tk, 'transfer', { to, position: positionValue },
        t('console.done.transfer', { ticket: show(tk.display), target }));
    },
  },
  h('h3', { id: 'transfer-title' }, t('console.transfer.title', { ticket: show(tk.display) })),
  h('fieldset', {}, h('legend', {}, t('console.transfer.kind')), kind('service'), kind('counter')),
  serviceField, counterField,
  h('fieldset', {}, h('legend', {}, t('console.transfer.position')), position('first'), position('last')),
  h('div', { class: 'row' },
    h('button', { type: 'submit', class: 'primary', disabled: S.busy }, t('console.transfer.confirm')),
    h('button', { type: 'button', onclick: () => { S.transferring = false; updateTransfer(); updateButtons(); S.ui.buttons.transfer.focus(); } }, t('console.transfer.cancel'))));
  ui.transfer.replaceChildren(form);
}

// ---------------------------------------------------------------------------------------------
// The customer: earlier visits and the services they used

function loadCustomer(customer) {
  if (S.customers.has(customer)) return;
  S.customers.set(customer, {});
  api(`/api/v1/customers/${encodeURIComponent(customer)}`)
    .then((record) => { S.customers.set(customer, record || {}); updateCustomer(); updatePreview(); })
    .catch((e) => console.warn(e));
}

/** Who the customer is: number, class, the language they prefer. */
function customerLine(customer) {
  loadCustomer(customer);
  const c = S.customers.get(customer) || {};
  const cls = c.class ? S.config.classes.find((k) => k.id === c.class) : null;
  const lang = c.language ? S.languageNames.find((l) => l.code === c.language) : null;
  const parts = [
    c.number ? h('span', { class: 'customer-number' }, t('console.customer.number', { number: digits(c.number) })) : null,
    cls ? h('span', { class: `badge class-${cls.code}` }, localized(cls.name)) : null,
    lang ? h('span', { class: 'customer-language' }, t('console.customer.prefers', { language: lang.name })) : null,
  ].filter(Boolean);
  return parts.length ? h('p', { class: 'row customer-line' }, parts) : null;
}

/** How long a customer's visits are shown before they are read again (the server follows
 *  the queue's history a little behind it). */
const VISITS_FRESH_MS = 15000;

function loadVisits(customer) {
  const known = S.visits.get(customer);
  if (known && (known.loading || Date.now() - known.at < VISITS_FRESH_MS)) return;
  // What was read stays on screen while it is read again.
  S.visits.set(customer, known ? { ...known, loading: !known.list && !known.error, at: Date.now() } : { loading: true, at: Date.now() });
  api(`/api/v1/customers/${encodeURIComponent(customer)}/visits?limit=10`)
    .then((list) => S.visits.set(customer, { list: Array.isArray(list) ? list : [], at: Date.now() }))
    .catch((error) => S.visits.set(customer, { error, at: Date.now() }))
    .finally(() => { if (S.ui && S.counter) { updateCustomer(); updatePreview(); } });
}

function visitsView(ticket) {
  if (!ticket.customer) return h('p', { class: 'muted no-customer' }, t('console.customer.none'));
  const who = customerLine(ticket.customer);
  loadVisits(ticket.customer);
  const v = S.visits.get(ticket.customer);
  if (v.loading) return [who, h('p', { class: 'loading' }, t('console.customer.loading'))];
  if (v.error) return [who, h('p', { class: 'muted visits-unavailable' }, t('console.customer.unavailable'))];
  const earlier = v.list.filter((visit) => visit.ticket !== ticket.id);
  if (!earlier.length) return [who, h('p', { class: 'muted no-visits' }, t('console.customer.noVisits'))];
  const used = new Map();
  for (const visit of earlier) {
    const name = visit.branch === S.branchId ? serviceName(visit.service) : (service(visit.service) ? serviceName(visit.service) : `${visit.display?.split('-')[0] || ''} (${t('console.customer.otherBranch')})`);
    used.set(name, (used.get(name) || 0) + 1);
  }
  const branchName = (id) => localized(S.branches.find((b) => b.id === id)?.name) || t('console.customer.otherBranch');
  return h('div', { class: 'visits' },
    who,
    h('p', { class: 'used' }, h('strong', {}, `${t('console.customer.services')}: `),
      [...used].map(([name, n], i) => [i ? (language().dir === 'rtl' ? '، ' : ', ') : '', `${name} (${num(n)})`])),
    h('h3', {}, t('console.customer.visits')),
    h('table', { class: 'visits-table' },
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('console.customer.date')),
        h('th', { scope: 'col' }, t('console.number')),
        h('th', { scope: 'col' }, t('console.details.service')),
        h('th', { scope: 'col' }, t('console.customer.outcome')),
        h('th', { scope: 'col', class: 'num' }, t('console.customer.wait')))),
      h('tbody', {}, earlier.map((visit) => h('tr', { class: `visit outcome-${visit.outcome}` },
        h('td', {}, formatDateTime(visit.issued_at, S.branches.find((b) => b.id === visit.branch)?.time_zone || tz())),
        h('td', { dir: 'ltr' }, show(visit.display || '')),
        h('td', {}, visit.branch === S.branchId ? serviceName(visit.service) : branchName(visit.branch)),
        h('td', {}, t(`console.outcome.${visit.outcome}`) === `console.outcome.${visit.outcome}` ? visit.outcome : t(`console.outcome.${visit.outcome}`)),
        h('td', { class: 'num' }, visit.wait_secs == null ? '–' : formatDuration(visit.wait_secs)))))));
}

function updateCustomer() {
  if (!S.ui || !S.counter) return;
  const tk = held();
  S.ui.customerCard.hidden = !tk;
  replaceKeepingFocus(S.ui.customer, tk ? visitsView(tk) : null);
}

// ---------------------------------------------------------------------------------------------
// The branch: waiting figures, waiting and parked tickets, alerts

function updateFigures() {
  const { ui, status, counter } = S;
  if (!status) return;
  const mine = new Set((counterRecord()?.profile.services || []).map((p) => p.service));
  const set = (el, text) => { if (el.textContent !== text) el.textContent = text; };
  set(ui.forCounter, num(counter.waiting));
  set(ui.inBranch, num(status.waiting));
  replaceKeepingFocus(ui.figures,
    h('table', { class: 'per-service' },
      h('caption', {}, t('console.perService')),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('console.details.service')),
        h('th', { scope: 'col', class: 'num' }, t('console.count')),
        h('th', { scope: 'col', class: 'num' }, t('console.longest')))),
      h('tbody', {}, status.services.map((s) => h('tr', { dataset: { prefix: s.prefix, service: s.id }, class: mine.has(s.id) ? 'mine' : '' },
        h('th', { scope: 'row' }, h('span', { class: 'prefix' }, s.prefix), ' ', localized(s.name),
          mine.has(s.id) ? h('span', { class: 'visually-hidden' }, ` (${t('console.servedHere')})`) : null),
        h('td', { class: 'num count' }, num(s.waiting)),
        h('td', { class: 'num' }, s.waiting ? formatDuration(s.longest_wait_secs) : '–'))))));
}

/** Replaces a container's content when it differs (so nothing flickers, nobody's click lands
 *  on a vanished button and screen readers hear only changes), giving the focus back to the
 *  element with the same key. */
function replaceKeepingFocus(container, ...children) {
  const next = children.flat(Infinity).filter((c) => c != null && c !== false && c !== '')
    .map((c) => (c instanceof Node ? c : document.createTextNode(String(c))));
  const old = [...container.childNodes];
  if (old.length === next.length && old.every((n, i) => n.isEqualNode(next[i]))) return;
  const active = document.activeElement;
  const key = container.contains(active) ? active?.dataset?.key : null;
  container.replaceChildren(...next);
  if (key) container.querySelector(`[data-key="${CSS.escape(key)}"]`)?.focus();
}

function updateList() {
  const { ui } = S;
  const waiting = S.tickets.filter((tk) => tk.state === 'waiting');
  const mine = new Set((counterRecord()?.profile.services || []).map((p) => p.service));
  // The tickets this counter serves first, each group in the order they came.
  waiting.sort((a, b) => Number(mine.has(b.service)) - Number(mine.has(a.service)));
  const tk = held();
  const canCall = S.counter.status === 'open' && !tk && !S.busy;
  replaceKeepingFocus(ui.list, waiting.length
    ? h('table', { class: 'tickets' },
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('console.number')),
        h('th', { scope: 'col' }, t('console.details.service')),
        h('th', { scope: 'col', class: 'num' }, t('console.since')),
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, t('console.actionsLabel'))))),
      h('tbody', {}, waiting.map((w) => h('tr', { dataset: { ticket: w.id, display: w.display }, class: S.selected === w.id ? 'selected' : '' },
        h('td', { dir: 'ltr', class: 'display' }, show(w.display),
          w.class !== 'normal' ? h('span', { class: `badge class-${w.class}` }, localized(classOf(w.class)?.name) || w.class) : null,
          w.customer ? h('span', { class: 'badge customer-mark', title: t('console.details.known') }, '★') : null),
        h('td', {}, serviceName(w.service)),
        h('td', { class: 'num' }, formatDuration((Date.now() - new Date(w.issued_at).getTime()) / 1000)),
        h('td', { class: 'row-actions' },
          h('button', { type: 'button', dataset: { key: `details-${w.id}` }, 'aria-pressed': String(S.selected === w.id),
            'aria-label': `${t('console.action.details')} ${show(w.display)}`,
            onclick: () => { S.selected = S.selected === w.id ? null : w.id; updateList(); updatePreview(); } }, t('console.action.details')),
          h('button', { type: 'button', dataset: { key: `call-${w.id}`, call: w.id }, disabled: !canCall,
            'aria-label': `${t('console.action.call')} ${show(w.display)}`,
            onclick: () => counterAction('call', 'call', { ticket: w.id }) }, t('console.action.call')))))))
    : h('p', { class: 'muted', id: 'none-waiting' }, t('console.noneWaiting')));
  const parked = S.tickets.filter((p) => p.state === 'parked');
  replaceKeepingFocus(ui.parked, parked.length
    ? h('section', { class: 'card', 'aria-labelledby': 'parked-title' },
      h('h2', { id: 'parked-title' }, t('console.parked')),
      h('ul', { class: 'parked' }, parked.map((p) => h('li', { dataset: { ticket: p.id } },
        h('span', { dir: 'ltr', class: 'display' }, show(p.display)), ' ', h('span', { class: 'muted' }, serviceName(p.service)),
        h('span', { class: 'row' },
          h('button', { type: 'button', dataset: { key: `resume-${p.id}`, resume: p.id }, disabled: S.busy,
            onclick: () => ticketAction(p, 'resume', { position: 'last' }, t('console.done.resume', { ticket: show(p.display) })) },
          t('console.action.resumeLast')),
          h('button', { type: 'button', dataset: { key: `resume-first-${p.id}`, resume: p.id }, disabled: S.busy,
            onclick: () => ticketAction(p, 'resume', { position: 'first' }, t('console.done.resume', { ticket: show(p.display) })) },
          t('console.action.resumeFirst')))))))
    : null);
}

function updatePreview() {
  const { ui } = S;
  if (!ui) return;
  const tk = S.tickets.find((w) => w.id === S.selected && w.state === 'waiting');
  if (!tk) {
    S.selected = null;
    replaceKeepingFocus(ui.preview);
    return;
  }
  const canCall = S.counter.status === 'open' && !held() && !S.busy;
  replaceKeepingFocus(ui.preview, h('section', { class: 'card preview', 'aria-labelledby': 'preview-title' },
    h('div', { class: 'row spread' },
      h('h2', { id: 'preview-title' }, t('console.preview', { ticket: show(tk.display) })),
      h('button', { type: 'button', dataset: { key: 'preview-close' }, onclick: () => { S.selected = null; updateList(); updatePreview(); } }, t('console.closePreview'))),
    ticketDetails(tk),
    h('h3', {}, t('console.customer.title')),
    h('div', { class: 'preview-customer' }, visitsView(tk)),
    h('button', { type: 'button', class: 'primary', dataset: { key: 'preview-call', call: tk.id }, disabled: !canCall,
      onclick: () => counterAction('call', 'call', { ticket: tk.id }) }, `${t('console.action.call')} ${show(tk.display)}`)));
}

/** An alert's longest wait now, when the status has it; as raised otherwise. */
function currentWait(alert) {
  const s = S.status?.services.find((x) => x.id === alert.service);
  return s && s.waiting ? Math.max(s.longest_wait_secs, alert.longest_wait_secs) : alert.longest_wait_secs;
}

function updateAlerts() {
  const { ui } = S;
  const list = [...S.alerts.values()];
  replaceKeepingFocus(ui.alerts, list.length
    ? h('section', { class: 'card alerts', 'aria-labelledby': 'alerts-title' },
      h('h2', { id: 'alerts-title' }, t('console.alerts')),
      h('ul', {}, list.map((a) => h('li', { class: `alert alert-${a.kind}`, dataset: { service: a.service } },
        t(`console.alert.${a.kind}`, {
          service: serviceName(a.service),
          wait: formatDuration(currentWait(a)),
          limit: formatDuration(a.limit_secs),
          n: a.waiting,
        })))))
    : '');
}

// ---------------------------------------------------------------------------------------------
// Live: the staff stream, and a refresh of what changed after each event

let refreshTimer = null;
let refreshing = null;
let refreshAgain = false;

function scheduleRefresh(delay = 120) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => { refresh(); }, delay);
}

async function refresh() {
  if (!S.counterId) return;
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  const counterId = S.counterId;
  refreshing = (async () => {
    try {
      const [counter, status, tickets] = await Promise.all([
        api(`${base()}/counters/${encodeURIComponent(counterId)}`),
        api(`${base()}/status`),
        api(`${base()}/tickets`),
      ]);
      if (S.counterId !== counterId || !S.ui) return;
      // An answer to an action that landed while this read was on its way is as new.
      if (!S.busy) S.counter = counter;
      S.status = status;
      S.tickets = tickets;
      updateAll();
      loadAgenda();
    } catch (e) {
      fail(e);
    }
  })();
  await refreshing;
  refreshing = null;
  if (refreshAgain) {
    refreshAgain = false;
    await refresh();
  }
}

/** Today's agenda, when a ticket came from a booking not yet known: its appointment time
 *  and holder's name (tickets do not carry them). */
async function loadAgenda() {
  const unknown = S.tickets.filter((tk) => tk.source === 'reservation' && !S.bookings.has(tk.id) && !S.agendaAsked.has(tk.id));
  if (!unknown.length) return;
  for (const tk of unknown) S.agendaAsked.add(tk.id);
  try {
    const bookings = await api(`${base()}/agenda`);
    for (const b of bookings) if (b.ticket) S.bookings.set(b.ticket, b);
    if (S.ui && S.counter) {
      updateTicket();
      updatePreview();
    }
  } catch (e) {
    console.warn(e);
  }
}

async function loadAlerts() {
  try {
    const live = await api(`${base()}/live`);
    S.alerts.clear();
    for (const a of live.alerts || []) S.alerts.set(`${a.service}/${a.kind}`, a);
    updateAlerts();
  } catch (e) {
    // Managers and agents may read it; a server without it only loses the alerts raised before.
    console.warn(e);
  }
}

function onEvent({ event, data }) {
  if (event === 'alert') {
    const k = `${data.service}/${data.kind}`;
    if (data.change === 'cleared') S.alerts.delete(k); else S.alerts.set(k, data);
    if (S.ui) updateAlerts();
    return;
  }
  if (event === 'reset') {
    loadAlerts();
    scheduleRefresh(0);
    return;
  }
  const e = data && data.event;
  if (e && e.ticket) {
    const extra = S.extra.get(e.ticket) || {};
    if (e.type === 'ticket_issued' && e.appointment_at) extra.appointment_at = e.appointment_at;
    if (e.type === 'ticket_recalled') extra.recalls = e.recall;
    S.extra.set(e.ticket, extra);
  }
  scheduleRefresh();
}

function startLive() {
  stopLive();
  S.live = stream(`${base()}/events`, {
    onMessage: onEvent,
    onState: (state) => {
      S.online = state === 'open';
      if (S.ui && S.counter) updateCounter();
      if (S.online) scheduleRefresh(0);
    },
  });
  // Waiting times grow without events.
  S.timer = setInterval(() => {
    if (!S.ui || !S.counter) return;
    updateTicket();
    updateFigures();
    updateList();
    updateCustomer();
    updatePreview();
  }, 30000);
}

function stopLive() {
  S.live?.close();
  S.live = null;
  S.online = false;
  clearInterval(S.timer);
  S.timer = null;
}

// ---------------------------------------------------------------------------------------------
// Keyboard shortcuts: physical keys (`event.code`), so they work on a Persian layout too

document.addEventListener('keydown', (e) => {
  if (!S.ui || !S.counter || e.ctrlKey || e.altKey || e.metaKey || e.repeat) return;
  const target = e.target;
  if (target && (target.closest?.('input, select, textarea, [contenteditable]'))) return;
  if (e.key === 'Escape' && S.transferring) {
    S.transferring = false;
    updateTransfer();
    updateButtons();
    return;
  }
  const action = ACTIONS.find((a) => a.code === e.code);
  if (!action) return;
  const button = S.ui.buttons[action.id];
  e.preventDefault();
  if (!button.disabled) button.click();
});

offlineShell();
await start();
