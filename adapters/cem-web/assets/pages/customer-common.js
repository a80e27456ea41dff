// What the customer pages (finder, join, tracker, booking, survey) share: the page's frame
// with its language picker, errors worded for customers, the tickets and bookings this phone
// keeps, and a branch's public information.
import {
  chooseLanguage, setLanguage, language, t, h, render, announce, showError, languagePicker,
  api, offlineShell, formatTime, localized,
} from '/assets/app.js';

/** Chooses and loads the customer's language (`fallback` when they never chose one), and
 *  registers the offline shell. */
export async function startCustomerPage(fallback) {
  await setLanguage(await chooseLanguage('customer', fallback));
  offlineShell();
}

/** The page's frame: a bar with the home link and the language picker (`redraw` runs after a
 *  change of language: pages whose data the server words reload it), then the content. */
export async function frame(redraw, ...content) {
  const picker = await languagePicker(async (code) => {
    await setLanguage(code, 'customer');
    announce('');
    redraw();
  });
  // Drawing again keeps the focus where it was (a radio chosen, a field typed in).
  const focused = document.activeElement && document.activeElement.id;
  const main = render(
    h('header', { class: 'cust-bar' },
      h('a', { href: '/', class: 'cust-home' }, t('find.brand')),
      picker),
    h('div', { class: 'cust-page' }, ...content),
  );
  if (focused) document.getElementById(focused)?.focus({ preventScroll: true });
  return main;
}

/** Shows an API error in the customer's words: the page section's `errors.<code>` first,
 *  then the shared catalogue's, then the server's message. */
export function problem(err, section) {
  const code = err && err.code;
  if (code) {
    for (const key of [`${section}.errors.${code}`, `find.errors.${code}`]) {
      const text = t(key);
      if (text !== key) {
        console.error(err);
        announce(text, 'error');
        return text;
      }
    }
  }
  showError(err);
  return null;
}

/** Runs `work` with `button` disabled (no double submissions); errors go to `problem`. */
export async function busy(button, work, section) {
  if (button) button.disabled = true;
  try {
    return await work();
  } catch (err) {
    problem(err, section);
    return undefined;
  } finally {
    if (button && button.isConnected) button.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// What this phone keeps

function readList(key) {
  try {
    const list = JSON.parse(localStorage.getItem(key) || '[]');
    return Array.isArray(list) ? list : [];
  } catch (e) {
    return [];
  }
}

function writeList(key, list) {
  try { localStorage.setItem(key, JSON.stringify(list)); } catch (e) { /* storage full or off */ }
}

const TICKETS = 'cem.customer.tickets';
const BOOKINGS = 'cem.customer.bookings';
const BRANCHES = 'cem.customer.branches';
const KEEP = 20;
const TERMINAL = ['done', 'no_show', 'cancelled'];

/** The tickets this phone took or followed, newest first:
 *  `[{branch, ticket, display, state, branchName, issued_at}]`. */
export function savedTickets() {
  return readList(TICKETS);
}

/** The tickets still alive (not served, missed or cancelled), newest first. */
export function activeTickets() {
  return savedTickets().filter((s) => !TERMINAL.includes(s.state));
}

/** Keeps a ticket (or updates it) for the finder and home to link back to. */
export function saveTicket(branch, view, branchName) {
  const list = savedTickets().filter((s) => s.ticket !== view.id);
  const old = savedTickets().find((s) => s.ticket === view.id) || {};
  list.unshift({
    branch, ticket: view.id, display: view.display, state: view.state,
    branchName: branchName || old.branchName || '', issued_at: view.issued_at,
  });
  writeList(TICKETS, list.slice(0, KEEP));
  rememberBranch(branch);
}

/** The last state of a ticket the tracker saw, with the branch's information:
 *  `{ticket, info, at}`, or null. */
export function lastKnown(ticket) {
  try { return JSON.parse(localStorage.getItem(`cem.customer.ticket.${ticket}`) || 'null'); } catch (e) { return null; }
}

export function keepKnown(ticket, snapshot) {
  try { localStorage.setItem(`cem.customer.ticket.${ticket}`, JSON.stringify(snapshot)); } catch (e) { /* full */ }
}

/** The bookings made on this phone: `[{branch, code, start, branchName}]`. */
export function savedBookings() {
  return readList(BOOKINGS);
}

export function saveBooking(branch, view, branchName) {
  const list = savedBookings().filter((b) => b.code !== view.code);
  list.unshift({ branch, code: view.code, start: view.start, state: view.state, branchName: branchName || '' });
  writeList(BOOKINGS, list.slice(0, KEEP));
  rememberBranch(branch);
}

/** The branches this phone has used (so the finder shows them even when closed). */
export function knownBranches() {
  return readList(BRANCHES);
}

export function rememberBranch(branch) {
  const list = knownBranches().filter((b) => b !== branch);
  list.unshift(branch);
  writeList(BRANCHES, list.slice(0, KEEP));
}

// ---------------------------------------------------------------------------------------------
// Branches

/** A branch's public information in the page's language. */
export function branchInfo(branch) {
  return api(`/api/v1/branches/${encodeURIComponent(branch)}/info?language=${encodeURIComponent(language().code)}`, { token: null });
}

/** "Open now, closes at 16:00" or "Closed, opens Mon 09:00", in the branch's zone. */
export function openingLine(info) {
  const tz = info.time_zone;
  if (info.open_now) {
    return info.next_closing
      ? t('find.openUntil', { time: whenText(info.next_closing, tz) })
      : t('find.openAlways');
  }
  return info.next_opening
    ? t('find.closedUntil', { time: whenText(info.next_opening, tz) })
    : t('find.closedLong');
}

/** The locale string of the current language for `Intl` (calendar and digits included). */
export function intlLocale() {
  const l = language();
  return `${l.locale}-u-ca-${l.calendar}-nu-${l.numbering}`;
}

/** A time today (`16:00`) or a weekday, date and time (`Mon 30 Nov, 09:00`), in zone `tz`. */
export function whenText(value, tz) {
  if (localDate(value, tz) === localDate(new Date(), tz)) return formatTime(value, tz);
  return new Intl.DateTimeFormat(intlLocale(), {
    weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZone: tz,
  }).format(new Date(value));
}

/** The name of service `id` in the branch's information. */
export function serviceName(info, id) {
  const s = info && info.services ? info.services.find((x) => x.id === id) : null;
  return s ? localized(s.name) : '';
}

/** The local date (`YYYY-MM-DD`) of an instant in zone `tz`. */
export function localDate(value, tz) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(value));
}

/** A local date (`YYYY-MM-DD`) plus `n` days. */
export function addDays(date, n) {
  const d = new Date(`${date}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** A local date (`YYYY-MM-DD`) written in the language's calendar (Jalali in Persian): `long`
 *  (weekday, day, month and year) or `short` (weekday, day and month). */
export function dayText(date, style = 'long') {
  return longDate(new Date(`${date}T12:00:00Z`), 'UTC', style);
}

/** The date of an instant in zone `tz`, in the language's calendar, with its weekday. */
export function longDate(value, tz, style = 'long') {
  const options = style === 'short'
    ? { weekday: 'short', day: 'numeric', month: 'short', timeZone: tz }
    : { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: tz };
  const format = new Intl.DateTimeFormat(intlLocale(), options);
  if (language().code !== 'fa') return format.format(new Date(value));
  // Some ICU builds write Persian dates year first ("۱۴۰۵ آذر ۸, یکشنبه"): put the parts in
  // the order Persian readers expect, "یکشنبه ۸ آذر ۱۴۰۵".
  const part = Object.fromEntries(format.formatToParts(new Date(value)).map((p) => [p.type, p.value]));
  return [part.weekday, part.day, part.month, part.year].filter(Boolean).join(' ');
}

/** A status badge. */
export function badge(text, kind) {
  return h('span', { class: `badge ${kind || ''}` }, text);
}
