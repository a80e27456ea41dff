// The shared base of every page: languages, numbers and dates, the API, live streams,
// sessions and a small DOM builder. Pages import what they need from here.

const FALLBACK = 'en';
let catalogue = {};
let english = {};
let meta = { name: 'English', dir: 'ltr', locale: 'en-GB', calendar: 'gregory', numbering: 'latn', voice: 'en-GB' };
let code = FALLBACK;
let languageList = null;

// ---------------------------------------------------------------------------------------------
// Languages

/** The languages the server has catalogues for: [{code, name, dir}]. */
export async function languages() {
  if (!languageList) languageList = await getJson('/assets/languages.json');
  return languageList;
}

/** The language chosen for a scope (`user`, `kiosk`, `screen`, `customer`): the page's
 *  `?lang=`, then the scope's last choice, then `fallback`, then the browser's. */
export async function chooseLanguage(scope, fallback) {
  const known = (await languages()).map((l) => l.code);
  const asked = new URLSearchParams(location.search).get('lang');
  if (asked && known.includes(asked)) {
    localStorage.setItem(`cem.lang.${scope}`, asked);
    return asked;
  }
  const stored = localStorage.getItem(`cem.lang.${scope}`);
  if (stored && known.includes(stored)) return stored;
  if (fallback && known.includes(fallback)) return fallback;
  const browser = (navigator.language || FALLBACK).slice(0, 2);
  return known.includes(browser) ? browser : FALLBACK;
}

/** Loads a language's catalogue and sets the document's language and direction. */
export async function setLanguage(lang, scope) {
  if (!Object.keys(english).length) english = await getJson(`/assets/i18n/${FALLBACK}.json`);
  catalogue = lang === FALLBACK ? english : await getJson(`/assets/i18n/${lang}.json`);
  meta = { ...english._meta, ...catalogue._meta };
  code = lang;
  if (scope) localStorage.setItem(`cem.lang.${scope}`, lang);
  document.documentElement.lang = lang;
  document.documentElement.dir = meta.dir;
  const skip = document.querySelector('.skip');
  if (skip) skip.textContent = t('common.skip');
  return lang;
}

/** The current language's code and its `_meta` (locale, calendar, numbering, voice, dir). */
export function language() {
  return { code, ...meta };
}

function lookup(table, key) {
  return key.split('.').reduce((node, part) => (node == null ? undefined : node[part]), table);
}

/** The text of `key` (`kiosk.take`) in the current language, English when the catalogue
 *  lacks it; `{name}` placeholders take `params`, numbers written in the language's digits. */
export function t(key, params = {}) {
  let text = lookup(catalogue, key);
  if (typeof text !== 'string') text = lookup(english, key);
  if (typeof text !== 'string') return key;
  return text.replace(/\{(\w+)\}/g, (_, name) => {
    const v = params[name];
    if (v == null) return '';
    return typeof v === 'number' ? num(v) : String(v);
  });
}

function intlLocale() {
  return `${meta.locale}-u-ca-${meta.calendar}-nu-${meta.numbering}`;
}

/** A number in the language's digits. */
export function num(n, options = {}) {
  return new Intl.NumberFormat(intlLocale(), options).format(n);
}

/** Digits of a code or number written as text (a ticket number like `A012`) in the
 *  language's digits, letters kept. */
export function digits(text) {
  const zero = new Intl.NumberFormat(intlLocale()).format(0);
  const base = zero.codePointAt(0);
  return String(text).replace(/[0-9]/g, (d) => String.fromCodePoint(base + Number(d)));
}

function toDate(value) {
  return value instanceof Date ? value : new Date(value);
}

/** A date in the language's calendar (Jalali in Persian), in time zone `tz`. */
export function formatDate(value, tz, style = 'medium') {
  return new Intl.DateTimeFormat(intlLocale(), { dateStyle: style, timeZone: tz }).format(toDate(value));
}

/** A time of day (hours and minutes) in time zone `tz`. */
export function formatTime(value, tz) {
  return new Intl.DateTimeFormat(intlLocale(), { hour: '2-digit', minute: '2-digit', timeZone: tz }).format(toDate(value));
}

/** A date and time in the language's calendar, in time zone `tz`. */
export function formatDateTime(value, tz) {
  return new Intl.DateTimeFormat(intlLocale(), { dateStyle: 'medium', timeStyle: 'short', timeZone: tz }).format(toDate(value));
}

/** A duration in seconds, rounded to minutes (or seconds under a minute). */
export function formatDuration(secs) {
  if (secs == null || Number.isNaN(secs)) return '–';
  if (secs < 60) return t('common.seconds', { n: Math.max(0, Math.round(secs)) });
  return t('common.minutes', { n: Math.round(secs / 60) });
}

/** A localized text record (`{"en": …, "fa": …}`) in the current language, or any. */
export function localized(text) {
  if (text == null) return '';
  if (typeof text === 'string') return text;
  return text[code] ?? text[FALLBACK] ?? Object.values(text)[0] ?? '';
}

// ---------------------------------------------------------------------------------------------
// The API

/** An error answered by the API: `status`, machine-readable `code`, human `message`. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.status = status;
    this.code = code;
  }
}

async function getJson(path) {
  const res = await fetch(path, { cache: 'no-cache' });
  if (!res.ok) throw new ApiError(res.status, 'http_error', `${path}: ${res.status}`);
  return res.json();
}

/** Calls the API. `token` defaults to the signed-in user's; `token: null` calls as the
 *  public. JSON bodies and answers; other answers are returned as text. Throws ApiError. */
export async function api(path, { method = 'GET', body, token = session.token(), headers = {} } = {}) {
  const h = { Accept: 'application/json', ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, 'offline', t('common.offline'));
  }
  const type = res.headers.get('content-type') || '';
  const data = type.includes('json') ? await res.json().catch(() => null) : await res.text();
  if (!res.ok) {
    const err = data && typeof data === 'object' ? data : {};
    throw new ApiError(res.status, err.code || 'http_error', err.detail || err.message || `${res.status}`);
  }
  return data;
}

/** The live stream at `path` (server-sent events read through fetch, so a token can be
 *  sent), reconnecting with `Last-Event-ID` after a drop. `onMessage({event, data, id})`,
 *  `onState('open' | 'closed')`. Returns `{close()}`. */
export function stream(path, { token = session.token(), onMessage, onState, lastId = null } = {}) {
  let stopped = false;
  let controller = null;
  let last = lastId;
  (async () => {
    let delay = 1000;
    while (!stopped) {
      controller = new AbortController();
      try {
        const headers = { Accept: 'text/event-stream' };
        if (token) headers.Authorization = `Bearer ${token}`;
        if (last) headers['Last-Event-ID'] = last;
        const res = await fetch(path, { headers, signal: controller.signal, cache: 'no-store' });
        if (!res.ok) throw new ApiError(res.status, 'stream_refused', `${res.status}`);
        onState?.('open');
        delay = 1000;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value.replace(/\r\n?/g, '\n');
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const message = parseEvent(block);
            if (!message) continue;
            if (message.id) last = message.id;
            try { onMessage?.(message); } catch (e) { console.error(e); }
          }
        }
      } catch (e) {
        if (stopped) return;
      }
      onState?.('closed');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15000);
    }
  })();
  return { close() { stopped = true; controller?.abort(); } };
}

function parseEvent(block) {
  let event = 'message';
  let id = null;
  const data = [];
  for (const line of block.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
  if (!data.length) return null;
  const raw = data.join('\n');
  let parsed = raw;
  try { parsed = JSON.parse(raw); } catch (e) { /* not JSON */ }
  return { event, data: parsed, id };
}

// ---------------------------------------------------------------------------------------------
// Sessions: a signed-in user, or a device (kiosk, display) paired by a manager

export const session = {
  token() { return localStorage.getItem('cem.token'); },
  set(token) { localStorage.setItem('cem.token', token); },
  clear() { localStorage.removeItem('cem.token'); },
  async signIn(login, password) {
    const answer = await api('/api/v1/auth/login', { method: 'POST', body: { login, password }, token: null });
    session.set(answer.token);
    return answer;
  },
  async signOut() {
    try { await api('/api/v1/auth/logout', { method: 'POST' }); } catch (e) { /* gone already */ }
    session.clear();
  },
  /** Who the token belongs to, or null when there is none or it is no longer valid. */
  async me(token = session.token()) {
    if (!token) return null;
    try { return await api('/api/v1/me', { token }); } catch (e) {
      if (e.status === 401) return null;
      throw e;
    }
  },
};

/** A device's own token (`kiosk`, `display`), kept in this browser. */
export const device = {
  token(kind) { return localStorage.getItem(`cem.device.${kind}`); },
  set(kind, token) { localStorage.setItem(`cem.device.${kind}`, token); },
  clear(kind) { localStorage.removeItem(`cem.device.${kind}`); },
};

// ---------------------------------------------------------------------------------------------
// The DOM

/** Builds an element: `h('button', {class: 'big', onclick: f}, 'text', child)`. Children are
 *  text nodes or elements, never HTML, so nothing a user typed can become markup. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces the page's content. */
export function render(...children) {
  const main = document.getElementById('main');
  main.replaceChildren(...children.flat(Infinity).filter((c) => c != null && c !== false));
  return main;
}

/** Says something to the user in the status line (read out by screen readers). */
export function announce(text, kind = 'info') {
  const status = document.getElementById('status');
  if (!status) return;
  status.className = text ? kind : '';
  // The API's own words may be in another script than the page's: let the text set its direction.
  status.dir = 'auto';
  status.textContent = text || '';
}

/** Shows an error: the API's message, or the catalogue's text for its code when it has one. */
export function showError(err) {
  console.error(err);
  const key = err && err.code ? `errors.${err.code}` : null;
  const known = key && t(key) !== key ? t(key) : null;
  announce(known || (err && err.message) || String(err), 'error');
}

/** A language picker (buttons in each language's own name) calling `onChange(code)`. */
export async function languagePicker(onChange) {
  const list = await languages();
  return h('nav', { class: 'languages', 'aria-label': t('common.language') },
    list.map((l) => h('button', {
      type: 'button', lang: l.code, dir: l.dir, 'aria-pressed': String(l.code === code),
      onclick: () => onChange(l.code),
    }, l.name)));
}

/** A sign-in form for staff; resolves once signed in. */
export function signInForm(onSignedIn) {
  const login = h('input', { id: 'login', name: 'login', autocomplete: 'username', required: true });
  const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', {
    class: 'card sign-in',
    onsubmit: async (e) => {
      e.preventDefault();
      try {
        await session.signIn(login.value.trim(), password.value);
        announce('');
        onSignedIn(await session.me());
      } catch (err) {
        if (err.status === 401) announce(t('common.wrongPassword'), 'error');
        else showError(err);
      }
    },
  },
  h('h1', {}, t('common.signIn')),
  h('label', { for: 'login' }, t('common.login')), login,
  h('label', { for: 'password' }, t('common.password')), password,
  h('button', { type: 'submit', class: 'primary' }, t('common.signIn')));
  return form;
}

/** The link to a QR code of `link` (a path of this server or an absolute URL). */
export function qrUrl(link) {
  return `/qr.svg?data=${encodeURIComponent(link)}`;
}

/** The path's segments after the page's own: `/track/B/T` → ['B', 'T']. */
export function pathParams() {
  return location.pathname.split('/').filter(Boolean).slice(1).map(decodeURIComponent);
}

/** Registers the service worker that keeps the pages for when the network is away. */
export function offlineShell() {
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch(() => {});
}
