// Helpers shared by the manager dashboard and the administration pages: time-zone dates,
// busy buttons, downloads of what needs the token, and the staff page's frame.
import {
  t, h, api, session, setLanguage, chooseLanguage, languagePicker, announce, showError, language,
} from '/assets/app.js';

/** The roles that may use the dashboard and the administration. */
export const MANAGER_ROLES = ['admin', 'branch_manager'];

/** Today's date (`YYYY-MM-DD`) in time zone `tz`. */
export function todayIn(tz) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
}

/** `date` (`YYYY-MM-DD`) moved by `n` days. */
export function addDays(date, n) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

function offsetAt(instant, tz) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
    timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(instant).map((p) => [p.type, p.value]));
  const asUtc = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  return asUtc - Math.floor(instant.getTime() / 1000) * 1000;
}

/** The instant local midnight of `date` (`YYYY-MM-DD`) is in time zone `tz`. */
export function zoneMidnight(date, tz) {
  const naive = Date.parse(`${date}T00:00:00Z`);
  let guess = new Date(naive - offsetAt(new Date(naive), tz));
  guess = new Date(naive - offsetAt(guess, tz));
  return guess;
}

/** Runs `work` with `button` disabled (no double submissions); errors are shown. */
export async function busy(button, work) {
  if (button) button.disabled = true;
  try {
    return await work();
  } catch (err) {
    showError(err);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

/** Offers `text` as a file download; returns the link (kept on the page too). */
export function offerDownload(text, filename, type = 'text/csv;charset=utf-8') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = h('a', { href: url, download: filename, class: 'button download-ready' }, t('dashboard.save', { file: filename }));
  link.click();
  return link;
}

/** Fetches an image that needs the token and gives a Blob URL for an `<img>`. */
export async function imageUrl(path) {
  const svg = await api(path, { headers: { Accept: 'image/svg+xml' } });
  return URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
}

/** Weekday `n` (1 = Monday … 7 = Sunday) in the current language. */
export function weekdayName(n, style = 'long') {
  const monday = Date.UTC(2024, 0, 1);
  return new Intl.DateTimeFormat(language().locale, { weekday: style, timeZone: 'UTC' })
    .format(new Date(monday + (n - 1) * 86400000));
}

/** A percentage (0–100) in the language's digits and sign, or a dash. */
export function pct(value, digits = 1) {
  if (value == null || Number.isNaN(value)) return '–';
  return new Intl.NumberFormat(intl(), { style: 'percent', maximumFractionDigits: digits }).format(value / 100);
}

function intl() {
  const l = language();
  return `${l.locale}-u-nu-${l.numbering}`;
}

/** A figure with at most `digits` decimals in the language's digits, or a dash. */
export function fig(value, digits = 0) {
  if (value == null || Number.isNaN(value)) return '–';
  return new Intl.NumberFormat(intl(), { maximumFractionDigits: digits }).format(value);
}

/** Signs the user in if needed, picks the language (theirs unless one was picked) and calls
 *  `start(me)`; users without a manager's role are told so. */
export async function staffPage(page, start) {
  await setLanguage(await chooseLanguage('user'));
  let me = null;
  try { me = await session.me(); } catch (err) { showError(err); }
  const begin = async (who) => {
    if (!localStorage.getItem('cem.lang.user') && who.language) await setLanguage(await chooseLanguage('user', who.language));
    document.title = t(`${page}.title`);
    if (!MANAGER_ROLES.includes(who.role)) {
      const { render } = await import('/assets/app.js');
      render(h('section', { class: 'card' }, h('h1', {}, t(`${page}.title`)),
        h('p', {}, t('dashboard.notManager')),
        h('button', { type: 'button', onclick: async () => { await session.signOut(); location.reload(); } }, t('common.signOut'))));
      return;
    }
    start(who);
  };
  if (me) return begin(me);
  const { render, signInForm } = await import('/assets/app.js');
  document.title = t(`${page}.title`);
  render(signInForm((who) => begin(who)));
  return undefined;
}

/** The page's top bar: its title, who is signed in, the other page, the language and signing out. */
export async function topBar(page, me, redraw) {
  const other = page === 'dashboard' ? 'admin' : 'dashboard';
  return h('header', { class: 'bar staff-bar' },
    h('strong', { class: 'staff-title' }, t(`${page}.title`)),
    h('span', { class: 'row' },
      h('span', {}, me.name),
      h('a', { href: `/${other}` }, t(`${other}.title`)),
      await languagePicker(async (code) => { await setLanguage(code, 'user'); redraw(); }),
      h('button', {
        type: 'button',
        onclick: async () => { await session.signOut(); location.href = `/${page}`; },
      }, t('common.signOut'))));
}

/** Tabs: `[{key, label}]`; the current one marked, `onSelect(key)`. */
export function tabs(list, current, onSelect) {
  return h('nav', { class: 'tabs', 'aria-label': t('dashboard.sections') },
    list.map(({ key, label }) => h('button', {
      type: 'button', 'data-tab': key, 'aria-current': key === current ? 'page' : null,
      onclick: () => onSelect(key),
    }, label)));
}

export { announce };
