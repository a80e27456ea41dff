// The live ticket tracker: the ticket's number, its place in line and the expected wait,
// updated live; when it is called, "your turn — counter N" with a vibration and a
// notification. The customer may leave (cancel the ticket). The last state seen is kept on
// the phone, so the page still shows it without a network.
import {
  t, h, api, stream, num, digits, formatDuration, formatTime, pathParams, announce,
} from '/assets/app.js';
import {
  startCustomerPage, frame, problem, busy, branchInfo, saveTicket, lastKnown, keepKnown,
  serviceName, badge,
} from '/assets/pages/customer-common.js';

const [branch, ticketId] = pathParams();
const base = `/api/v1/branches/${encodeURIComponent(branch)}`;
const TERMINAL = ['done', 'no_show', 'cancelled'];

let snapshot = lastKnown(ticketId); // {ticket, info, at}
let offline = false;
let missing = false;
let confirming = false;
let infoAt = 0;
let streams = [];
let pending = null;
let force = true; // the first reading, and after a change of language

await startCustomerPage();
draw();
await refresh();
listen();

async function refresh() {
  const was = JSON.stringify([snapshot && snapshot.ticket, snapshot && snapshot.info && snapshot.info.name, offline, missing,
    snapshot && snapshot.at && snapshot.at.slice(0, 16)]);
  try {
    const ticket = await api(`${base}/tickets/${encodeURIComponent(ticketId)}`, { token: null });
    let info = snapshot && snapshot.info;
    if (!info || Date.now() - infoAt > 60000) {
      info = await branchInfo(branch).catch(() => info);
      infoAt = Date.now();
    }
    const before = snapshot && snapshot.ticket;
    snapshot = { ticket, info, at: new Date().toISOString() };
    keepKnown(ticketId, snapshot);
    saveTicket(branch, ticket, info ? info.name : '');
    offline = false;
    missing = false;
    if (ticket.state === 'called' && (!before || before.state !== 'called' || before.called_at !== ticket.called_at)) {
      alertTurn(ticket);
    }
    if (TERMINAL.includes(ticket.state)) stopListening();
  } catch (err) {
    if (err.status === 404) {
      missing = true;
    } else if (err.code === 'offline' || err.status === 0 || err.status >= 500) {
      offline = true;
    } else {
      problem(err, 'track');
    }
  }
  // Drawn again only when something shown changed: a screen reader hears a change once.
  const now = JSON.stringify([snapshot && snapshot.ticket, snapshot && snapshot.info && snapshot.info.name, offline, missing,
    snapshot && snapshot.at && snapshot.at.slice(0, 16)]);
  if (now !== was || force) draw();
  force = false;
}

/** After a change of language: the branch's names again, in it. */
function relocalize() {
  infoAt = 0;
  force = true;
  if (snapshot) snapshot = { ...snapshot, info: null };
  return refresh();
}

/** Reads the ticket again soon: many events come in bursts. */
function refreshSoon(delay = 800) {
  clearTimeout(pending);
  pending = setTimeout(refresh, delay);
}

function listen() {
  if (snapshot && TERMINAL.includes(snapshot.ticket.state)) return;
  let dropped = false;
  const onState = (state) => {
    if (state === 'closed') {
      dropped = true;
      offline = true;
      draw();
    } else if (state === 'open' && dropped) {
      dropped = false;
      refreshSoon(0);
    }
  };
  // This ticket's own events (called, recalled, served…) at once; the branch's events move
  // the line, so the place and wait are read again after them.
  streams.push(stream(`${base}/events?ticket=${encodeURIComponent(ticketId)}`, {
    token: null, onMessage: () => refreshSoon(0), onState,
  }));
  streams.push(stream(`${base}/events`, { token: null, onMessage: () => refreshSoon(1500) }));
}

function stopListening() {
  for (const s of streams) s.close();
  streams = [];
}

// Estimates drift with time even without events.
setInterval(() => {
  if (!document.hidden && snapshot && !TERMINAL.includes(snapshot.ticket.state)) refresh();
}, 60000);
document.addEventListener('visibilitychange', () => { if (!document.hidden) refreshSoon(0); });
window.addEventListener('online', () => refreshSoon(0));

function alertTurn(ticket) {
  const counter = ticket.counter == null ? '' : num(ticket.counter);
  try { navigator.vibrate?.([500, 200, 500, 200, 800]); } catch (e) { /* not a phone */ }
  if ('Notification' in window && Notification.permission === 'granted') {
    const title = t('track.yourTurn');
    const options = { body: t('track.goTo', { counter }), tag: `cem-${ticket.id}`, renotify: true, lang: document.documentElement.lang, icon: '/assets/icon.svg' };
    const viaWorker = navigator.serviceWorker?.getRegistration?.().then((r) => (r ? r.showNotification(title, options) : Promise.reject()));
    Promise.resolve(viaWorker).catch(() => new Notification(title, options)).catch(() => {});
  }
  document.title = `${t('track.yourTurn')} – ${t('track.counterN', { counter })}`;
}

async function askNotifications(button) {
  await busy(button, async () => {
    const answer = await Notification.requestPermission();
    announce(answer === 'granted' ? t('track.notifyOn') : t('track.notifyOff'), answer === 'granted' ? 'ok' : 'info');
    draw();
  }, 'track');
}

async function leave(button) {
  await busy(button, async () => {
    const ticket = await api(`${base}/tickets/${encodeURIComponent(ticketId)}/cancel`, { method: 'POST', token: null });
    confirming = false;
    snapshot = { ...snapshot, ticket, at: new Date().toISOString() };
    keepKnown(ticketId, snapshot);
    saveTicket(branch, ticket);
    stopListening();
    announce(t('track.cancelled'), 'ok');
    draw();
  }, 'track');
}

function stateView(ticket, tz) {
  const counter = ticket.counter == null ? '–' : num(ticket.counter);
  switch (ticket.state) {
    case 'waiting': {
      const wait = ticket.estimated_wait_secs;
      const around = wait == null ? null : new Date(Date.now() + wait * 1000);
      return h('div', { class: 'track-state track-waiting', dataset: { state: ticket.state } },
        h('p', { class: 'track-status' }, t('track.waiting')),
        h('div', { class: 'cust-figures' },
          h('div', { class: 'cust-figure' }, h('span', { class: 'label' }, t('track.ahead')),
            h('span', { class: 'value', id: 'track-ahead' }, ticket.ahead == null ? '–' : num(ticket.ahead))),
          h('div', { class: 'cust-figure' }, h('span', { class: 'label' }, t('track.wait')),
            h('span', { class: 'value', id: 'track-wait' }, wait == null ? t('track.noEstimate') : wait < 30 ? t('track.soon') : formatDuration(wait))),
          around ? h('div', { class: 'cust-figure' }, h('span', { class: 'label' }, t('track.around')),
            h('span', { class: 'value' }, formatTime(around, tz))) : null),
        ticket.ahead === 0 ? h('p', { class: 'track-next' }, t('track.youAreNext')) : null);
    }
    case 'called':
      return h('div', { class: 'track-state track-called', role: 'alert', dataset: { state: ticket.state } },
        h('p', { class: 'track-turn' }, t('track.yourTurn')),
        h('p', { class: 'track-counter' }, t('track.counterN', { counter })),
        h('p', {}, t('track.goTo', { counter })));
    case 'serving':
      return h('div', { class: 'track-state track-serving', dataset: { state: ticket.state } },
        h('p', { class: 'track-status' }, t('track.serving', { counter })));
    case 'parked':
      return h('div', { class: 'track-state', dataset: { state: ticket.state } }, h('p', { class: 'track-status' }, t('track.parked')));
    case 'done':
      return h('div', { class: 'track-state track-done', dataset: { state: ticket.state } }, h('p', { class: 'track-status' }, t('track.done')));
    case 'no_show':
      return h('div', { class: 'track-state track-over', dataset: { state: ticket.state } }, h('p', { class: 'track-status' }, t('track.noShow')));
    case 'cancelled':
      return h('div', { class: 'track-state track-over', dataset: { state: ticket.state } }, h('p', { class: 'track-status' }, t('track.cancelledState')));
    default:
      return h('div', { class: 'track-state', dataset: { state: ticket.state } }, h('p', {}, ticket.state));
  }
}

function draw() {
  if (!snapshot) {
    frame(relocalize, h('h1', {}, t('track.title')),
      missing ? h('p', { class: 'card track-missing' }, t('track.missing'))
        : offline ? h('p', { class: 'card cust-offline' }, t('track.offlineNothing'))
          : h('p', { class: 'loading' }, t('track.loading')),
      h('p', {}, h('a', { href: '/' }, t('track.home'))));
    return;
  }
  const { ticket, info } = snapshot;
  const tz = info ? info.time_zone : undefined;
  const alive = !TERMINAL.includes(ticket.state);
  if (ticket.state !== 'called') document.title = `${digits(ticket.display)} – ${t('track.title')}`;
  const canNotify = ['waiting', 'parked'].includes(ticket.state) && 'Notification' in window && Notification.permission === 'default';
  const leaveButton = h('button', { type: 'button', class: 'danger track-leave-yes', onclick: (e) => leave(e.currentTarget) }, t('track.leaveYes'));
  const notifyButton = canNotify ? h('button', { type: 'button', class: 'track-notify', onclick: (e) => askNotifications(e.currentTarget) }, t('track.notify')) : null;
  frame(relocalize,
    offline ? h('p', { class: 'cust-offline track-offline', role: 'status' },
      t('track.offline', { time: formatTime(snapshot.at, tz) })) : null,
    missing ? h('p', { class: 'card track-missing' }, t('track.missing')) : null,
    h('section', { class: `card track-card track-card-${ticket.state}`, 'aria-labelledby': 'track-number' },
      h('p', { class: 'track-label' }, t('track.title')),
      h('p', { class: 'huge track-number', id: 'track-number', dir: 'ltr' }, digits(ticket.display)),
      h('p', { class: 'track-where' },
        info ? info.name : '', info && serviceName(info, ticket.service) ? `${t('find.sep')}${serviceName(info, ticket.service)}` : ''),
      h('div', { 'aria-live': 'polite', 'aria-atomic': 'true' }, stateView(ticket, tz)),
      h('p', { class: 'cust-hint track-taken' },
        t('track.takenAt', { time: formatTime(ticket.issued_at, tz) }), t('find.sep'),
        t('track.updatedAt', { time: formatTime(snapshot.at, tz) }))),
    alive ? h('section', { class: 'track-tools' },
      notifyButton,
      alive && ticket.state !== 'serving' ? (confirming
        ? h('div', { class: 'cust-confirm', role: 'group', 'aria-labelledby': 'track-leave-q' },
          h('p', { id: 'track-leave-q' }, t('track.leaveQuestion', { display: digits(ticket.display) })),
          h('div', { class: 'cust-actions' },
            leaveButton,
            h('button', { type: 'button', class: 'track-leave-no', onclick: () => { confirming = false; draw(); } }, t('track.leaveNo'))))
        : h('button', { type: 'button', class: 'track-leave', onclick: () => { confirming = true; draw(); document.querySelector('.track-leave-no')?.focus(); } }, t('track.leave'))) : null,
      h('p', { class: 'cust-hint' }, t('track.keepOpen'))) : null,
    h('p', { class: 'track-links' },
      h('a', { href: '/' }, t('track.home')),
      document.body.dataset.organization ? [t('find.sep'), h('a', { href: `/find/${document.body.dataset.organization}` }, t('track.find'))] : null),
    badge(offline ? t('track.disconnected') : t('track.live'), offline ? 'bad' : 'ok'),
  );
}
