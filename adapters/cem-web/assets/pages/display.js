// The display board: a TV in the branch's hall. Paired once by a manager with a screen of
// the branch, it draws the screen's layout (now serving, recent calls, media, news, clock,
// waiting summary, join QR) in the screen's language, announces every call (highlighted and
// spoken, one at a time), and keeps showing its last content while the server is away.
// Nothing here holds a ticket id or anything about a customer: the screen's API gives
// display numbers and counter numbers only.
import {
  api, ApiError, device, h, render, t, announce, setLanguage, chooseLanguage, language, localized,
  stream, num, digits, formatDate, formatTime, formatDuration, qrUrl, offlineShell,
} from '/assets/app.js';
import { pair, failWith } from '/assets/pages/kiosk-pair.js';

const KEYS = {
  screen: 'cem.display.screen',
  content: 'cem.display.content',
  etag: 'cem.display.etag',
  media: 'cem.display.media',
};
/** How long a call stays highlighted at least, in ms. */
const HIGHLIGHT_MS = 8000;
/** How long one news item shows, in ms. */
const NEWS_MS = 10000;
/** Calls older than this when they reach the screen (after a reconnection) are shown, not said. */
const STALE_MS = 30000;

/** Every announcement said (or shown when the browser cannot speak): `{text, speech, lang, at}`. */
window.cemAnnouncements = window.cemAnnouncements || [];

const board = {
  token: null,
  screen: null,
  content: null,
  etag: null,
  offset: 0, // the server's clock minus ours, in ms
  online: true,
  refreshTimer: null,
  failures: 0,
  highlight: null, // {display, counter, until}
  media: { key: null, until: 0, el: null, known: [] },
  news: { index: 0, since: 0 },
  stream: null,
};

const serverNow = () => Date.now() + board.offset;
const screenPath = (...rest) => `/api/v1/branches/${encodeURIComponent(board.screen.branch)}/screens/${encodeURIComponent(board.screen.id)}${rest.join('')}`;

function load(key) {
  try { return JSON.parse(localStorage.getItem(key)); } catch (e) { return null; }
}

function keep(key, value) {
  try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* storage full: keep going */ }
}

// ---------------------------------------------------------------------------------------------
// Content: read with its ETag, kept for when the server is away

async function fetchContent() {
  const headers = { Accept: 'application/json', Authorization: `Bearer ${board.token}` };
  if (board.etag && board.content) headers['If-None-Match'] = board.etag;
  let res;
  try {
    res = await fetch(screenPath('/content'), { headers, cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, 'offline', t('common.offline'));
  }
  if (res.status === 304) return false;
  if (!res.ok) {
    const problem = await res.json().catch(() => ({}));
    throw new ApiError(res.status, problem.code || 'http_error', problem.detail || `${res.status}`);
  }
  const content = await res.json();
  board.etag = res.headers.get('ETag');
  board.content = content;
  if (content.clock && content.clock.now) board.offset = Date.parse(content.clock.now) - Date.now();
  keep(KEYS.content, { screen: board.screen.id, content, offset: board.offset });
  keep(KEYS.etag, board.etag);
  return true;
}

function scheduleRefresh(ms) {
  clearTimeout(board.refreshTimer);
  board.refreshTimer = setTimeout(refresh, Math.max(250, ms));
}

let refreshing = null;
async function refresh() {
  if (refreshing) return refreshing;
  refreshing = (async () => {
    try {
      const changed = await fetchContent();
      board.failures = 0;
      setOnline(true);
      if (changed) draw();
      const at = board.content && Date.parse(board.content.refresh_at);
      const wait = at && at > serverNow() ? at - serverNow() + 200 : 15000;
      scheduleRefresh(Math.min(wait, 60000));
    } catch (err) {
      if (err.status === 401) {
        device.clear('display');
        location.reload();
        return;
      }
      if (err.status === 403 || err.status === 404) {
        // No longer this screen (unbound or deleted): start again.
        localStorage.removeItem(KEYS.screen);
        location.reload();
        return;
      }
      board.failures += 1;
      setOnline(false);
      scheduleRefresh(Math.min(3000 * board.failures, 15000));
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

let soonTimer = null;
/** Reads the content again shortly (after a queue event; several events make one read). */
function refreshSoon() {
  clearTimeout(soonTimer);
  soonTimer = setTimeout(refresh, 400);
}

async function warmManifest() {
  try {
    const files = await api(screenPath('/manifest?hours=24'), { token: board.token });
    for (const url of files.media || []) {
      // Fetched once so the browser's cache has it when the network is away.
      fetch(url, { mode: 'no-cors', cache: 'force-cache' }).catch(() => {});
    }
  } catch (err) {
    console.warn('manifest', err);
  }
}

function setOnline(online) {
  if (board.online === online) return;
  board.online = online;
  const mark = document.getElementById('reconnecting');
  if (mark) mark.hidden = online;
  document.body.classList.toggle('offline', !online);
}

// ---------------------------------------------------------------------------------------------
// Calls: the board at once, then the announcement in turn

function takeCall(display, counter, at) {
  const c = board.content;
  if (!c || !display) return;
  const rows = (kind, field) => Math.max(0, ...c.layout.zones.filter((z) => z.kind.type === kind).map((z) => z.kind[field] || 0));
  const call = { display, counter, service: null, called_at: at };
  const serving = c.board.now_serving.filter((s) => s.counter !== counter && s.display !== display);
  c.board.now_serving = [call, ...serving].slice(0, rows('now_serving', 'rows'));
  const recent = c.board.recent_calls.filter((s) => s.display !== display);
  c.board.recent_calls = [call, ...recent].slice(0, rows('recent_calls', 'count'));
}

const speech = { queue: [], busy: false };

function chime() {
  return new Promise((resolve) => {
    try {
      const Audio = window.AudioContext || window.webkitAudioContext;
      if (!Audio) { resolve(); return; }
      const ctx = new Audio();
      const gain = ctx.createGain();
      gain.connect(ctx.destination);
      gain.gain.value = 0.15;
      [880, 660].forEach((freq, i) => {
        const osc = ctx.createOscillator();
        osc.frequency.value = freq;
        osc.connect(gain);
        osc.start(ctx.currentTime + i * 0.35);
        osc.stop(ctx.currentTime + i * 0.35 + 0.3);
      });
      setTimeout(() => { ctx.close().catch(() => {}); resolve(); }, 750);
    } catch (e) {
      resolve();
    }
  });
}

/** Says `text` in `lang`; resolves at the utterance's end, or after `timeout` ms when the
 *  browser says nothing (no voices, as in a headless browser). */
function say(text, lang, timeout) {
  return new Promise((resolve) => {
    let done = false;
    const finish = () => { if (!done) { done = true; resolve(); } };
    setTimeout(finish, timeout);
    if (!('speechSynthesis' in window) || typeof SpeechSynthesisUtterance === 'undefined') return;
    try {
      const utterance = new SpeechSynthesisUtterance(text);
      const meta = language();
      utterance.lang = meta.code === lang && meta.voice ? meta.voice : lang;
      const voice = speechSynthesis.getVoices().find((v) => v.lang.toLowerCase().startsWith(lang.toLowerCase()));
      if (voice) utterance.voice = voice;
      utterance.onend = finish;
      utterance.onerror = finish;
      speechSynthesis.speak(utterance);
    } catch (e) {
      console.warn('speech', e);
    }
  });
}

async function pump() {
  if (speech.busy) return;
  const next = speech.queue.shift();
  if (!next) return;
  speech.busy = true;
  try {
    const a = next.announcement;
    const length = Math.max(0, Date.parse(a.ends_at) - Date.parse(a.starts_at)) || 4000;
    board.highlight = { display: next.display, counter: next.counter, until: Date.now() + Math.max(HIGHLIGHT_MS, length) };
    drawFlash(a);
    drawBoard();
    window.cemAnnouncements.push({ text: a.text, speech: a.speech, lang: a.language, at: new Date().toISOString() });
    if (a.chime) await chime();
    await say(a.speech || a.text, a.language, Math.min(Math.max(length + 2000, 4000), 20000));
  } finally {
    speech.busy = false;
    pump();
  }
}

function onMessage(message) {
  if (message.event === 'reset') {
    refresh();
    return;
  }
  if (message.event !== 'queue' || !message.data || typeof message.data !== 'object') return;
  const data = message.data;
  const event = data.event || {};
  if (data.announcement && (event.type === 'ticket_called' || event.type === 'ticket_recalled')) {
    takeCall(event.display, event.counter_number, data.at);
    const ends = Date.parse(data.announcement.ends_at);
    if (!(ends < serverNow() - STALE_MS)) {
      speech.queue.push({ display: event.display, counter: event.counter_number, announcement: data.announcement });
      pump();
    }
    drawBoard();
  }
  refreshSoon();
}

function openStream() {
  board.stream = stream(screenPath('/events'), {
    token: board.token,
    onMessage,
    onState: (s) => {
      if (s === 'open') {
        // Back: read the content again (the stream resumes after its last event by itself).
        refresh();
      } else {
        setOnline(false);
      }
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Drawing

const zoneEls = new Map();

function areaStyle(area) {
  return `inset-inline-start:${area.x}%;inset-block-start:${area.y}%;inline-size:${area.w}%;block-size:${area.h}%`;
}

function zoneTitle(key) {
  return h('h2', { class: 'zone-title' }, t(key));
}

function nowServing(zone) {
  const rows = board.content.board.now_serving;
  if (!rows.length) return [zoneTitle('display.nowServing'), h('p', { class: 'empty' }, t('display.noCalls'))];
  return [
    zoneTitle('display.nowServing'),
    h('table', { class: 'calls' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('display.ticket')), h('th', { scope: 'col' }, t('display.counter')))),
      h('tbody', {}, rows.slice(0, zone.kind.rows).map((r, i) => h('tr', {
        class: [i === 0 ? 'latest' : '', isHighlighted(r) ? 'flash' : ''].join(' ').trim() || null,
        dataset: { display: r.display },
      }, h('td', { class: 'display', dir: 'ltr' }, digits(r.display)), h('td', { class: 'counter' }, num(r.counter)))))),
  ];
}

function isHighlighted(call) {
  const hl = board.highlight;
  return hl && hl.until > Date.now() && hl.display === call.display && hl.counter === call.counter;
}

function recentCalls(zone) {
  const rows = board.content.board.recent_calls.slice(0, zone.kind.count);
  return [
    zoneTitle('display.recent'),
    rows.length
      ? h('ol', { class: 'recent' }, rows.map((r) => h('li', { dataset: { display: r.display } },
        h('span', { class: 'display', dir: 'ltr' }, digits(r.display)),
        h('span', { class: 'arrow', 'aria-hidden': 'true' }, language().dir === 'rtl' ? '←' : '→'),
        h('span', { class: 'counter' }, t('display.counterN', { n: r.counter })))))
      : h('p', { class: 'empty' }, t('display.noCalls')),
  ];
}

function waitingSummary() {
  const rows = board.content.waiting;
  return [
    zoneTitle('display.waitingTitle'),
    h('table', { class: 'waiting' }, h('tbody', {}, rows.map((s) => h('tr', {},
      h('th', { scope: 'row' }, h('span', { class: 'prefix', dir: 'ltr' }, s.prefix), ' ', s.name),
      h('td', { class: 'num' }, t('display.waitingN', { n: s.waiting })),
      h('td', { class: 'num' }, s.waiting > 0 && s.estimated_wait_secs != null ? t('display.about', { time: formatDuration(s.estimated_wait_secs) }) : ''))))),
  ];
}

function joinQr() {
  return [
    h('img', { src: qrUrl(board.content.join_url), alt: t('display.joinAlt') }),
    h('p', { class: 'join-text' }, t('display.join')),
  ];
}

function clockFace() {
  const tz = board.content.clock.time_zone;
  const now = new Date(serverNow());
  return [
    h('p', { class: 'time' }, formatTime(now, tz)),
    h('p', { class: 'date' }, formatDate(now, tz, 'medium')),
  ];
}

// Media: the current item from the server, and the items seen before for when it is away.
function rememberMedia(media) {
  if (!media) return;
  const key = `${media.playlist}/${media.item}`;
  const secs = Math.max(3, Math.round((Date.parse(media.ends_at) - Date.parse(media.started_at)) / 1000));
  const old = board.media.known.find((m) => m.key === key);
  if (old) {
    old.content = media.content;
    old.secs = Math.max(old.secs, secs);
  } else {
    board.media.known.push({ key, content: media.content, secs });
  }
  board.media.known = board.media.known.slice(-30);
  keep(KEYS.media, board.media.known);
}

function mediaElement(content) {
  switch (content.type) {
    case 'image': return h('img', { src: content.url, alt: '' });
    case 'video': return h('video', { src: content.url, muted: true, autoplay: true, loop: true, playsinline: true });
    case 'web_page': return h('iframe', { src: content.url, title: t('display.media'), sandbox: 'allow-scripts allow-same-origin', tabindex: '-1' });
    case 'text': return h('p', { class: 'media-text' }, localized(content.text));
    default: return h('p', {});
  }
}

/** The media item to show now: the server's while it answers, else the next one known. */
function currentMedia() {
  const m = board.media;
  const served = board.content && board.content.media;
  if (board.online && served) {
    const key = `${served.playlist}/${served.item}`;
    if (m.key !== key) {
      m.key = key;
      m.until = Date.parse(served.ends_at) - board.offset;
      m.el = mediaElement(served.content);
    }
    return m.el;
  }
  if (!board.online && m.known.length) {
    if (!m.el || Date.now() >= m.until) {
      const at = m.known.findIndex((k) => k.key === m.key);
      const next = m.known[(at + 1) % m.known.length];
      m.key = next.key;
      m.until = Date.now() + next.secs * 1000;
      m.el = mediaElement(next.content);
    }
    return m.el;
  }
  if (board.online && !served) { m.key = null; m.el = null; }
  return m.el;
}

function newsItem() {
  const news = board.content.news || [];
  if (!news.length) return null;
  const n = board.news;
  if (!n.since) n.since = Date.now();
  if (Date.now() - n.since >= NEWS_MS) {
    n.index = (n.index + 1) % news.length;
    n.since = Date.now();
  }
  const item = news[n.index % news.length];
  return h('p', { class: `news-item ${item.priority || ''}` },
    h('strong', {}, item.title), item.body ? ` — ${item.body}` : '');
}

function zoneBody(zone) {
  switch (zone.kind.type) {
    case 'now_serving': return nowServing(zone);
    case 'recent_calls': return recentCalls(zone);
    case 'media': return [currentMedia()];
    case 'news_ticker': return [h('span', { class: 'news-label' }, t('display.news')), newsItem()];
    case 'clock': return clockFace();
    case 'waiting_summary': return waitingSummary();
    case 'join_qr': return joinQr();
    default: return [];
  }
}

function fillZone(zone) {
  const el = zoneEls.get(zone.key);
  if (!el) return;
  el.replaceChildren(...zoneBody(zone).filter(Boolean));
  // A video taken out of the page and put back pauses.
  const video = el.querySelector('video');
  if (video && video.paused) video.play().catch(() => {});
}

function drawZones(types) {
  if (!board.content) return;
  for (const zone of board.content.layout.zones) {
    if (types.includes(zone.kind.type)) fillZone(zone);
  }
}

function drawBoard() {
  drawZones(['now_serving', 'recent_calls']);
}

let flashTimer = null;
function drawFlash(a) {
  const flash = document.getElementById('call-flash');
  if (!flash) return;
  flash.replaceChildren(h('p', { class: 'flash-text' }, a.text));
  flash.hidden = false;
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => {
    flash.hidden = true;
    drawBoard();
  }, Math.max(HIGHLIGHT_MS, Date.parse(a.ends_at) - Date.parse(a.starts_at) || 0));
}

let drawnLayout = null;

function draw() {
  if (!board.content) return;
  const c = board.content;
  rememberMedia(c.media);
  const layout = JSON.stringify(c.layout);
  if (layout === drawnLayout && document.getElementById('screen')) {
    // Same layout: refill the zones; the media zone only when its item changed, so a video
    // or a web page is not restarted by every queue event.
    for (const zone of c.layout.zones) {
      if (zone.kind.type !== 'media') fillZone(zone);
      else if (zoneEls.get(zone.key)?.firstElementChild !== currentMedia()) fillZone(zone);
    }
    return;
  }
  drawnLayout = layout;
  zoneEls.clear();
  const zones = c.layout.zones.map((zone) => {
    const el = h('section', {
      class: `zone zone-${zone.kind.type.replace(/_/g, '-')}`,
      style: areaStyle(zone.area),
      dataset: { zone: zone.key },
      'aria-live': zone.kind.type === 'now_serving' ? 'polite' : null,
    });
    zoneEls.set(zone.key, el);
    return el;
  });
  const flash = document.getElementById('call-flash');
  render(
    h('div', { class: 'screen', id: 'screen', 'aria-label': c.screen.name }, zones),
    flash || h('div', { id: 'call-flash', class: 'call-flash', role: 'status', 'aria-live': 'assertive', hidden: true }),
    h('div', { id: 'reconnecting', class: 'reconnecting', role: 'status', hidden: board.online }, t('display.reconnecting')),
  );
  for (const zone of c.layout.zones) fillZone(zone);
}

/** Every second: the clock; the media item and the news when their time is up; the
 *  highlight when it is over. */
function tick() {
  if (!board.content) return;
  drawZones(['clock']);
  const m = board.media;
  if (m.until && Date.now() >= m.until) {
    if (board.online) {
      // The server says what comes next; ask once, then again a few seconds later.
      m.until = Date.now() + 5000;
      refreshSoon();
    } else {
      for (const zone of board.content.layout.zones) {
        if (zone.kind.type === 'media' && zoneEls.get(zone.key)?.firstElementChild !== currentMedia()) fillZone(zone);
      }
    }
  }
  if (Date.now() - board.news.since >= NEWS_MS) drawZones(['news_ticker']);
  if (board.highlight && board.highlight.until <= Date.now()) {
    board.highlight = null;
    drawBoard();
  }
}

// ---------------------------------------------------------------------------------------------
// Pairing: a display device bound to a screen of the branch

async function screensOf(branch, { box, name, language: languageSelect }) {
  const screens = await api(`/api/v1/branches/${encodeURIComponent(branch)}/screens`);
  if (!screens.length) {
    box.append(h('p', { class: 'muted' }, t('display.noScreens')));
    return { ok: () => { announce(t('display.noScreens'), 'error'); return false; }, after: async () => {} };
  }
  const select = h('select', { id: 'pair-screen', name: 'screen', required: true },
    screens.map((s) => h('option', { value: s.id }, s.name, s.device ? ` (${t('display.taken')})` : '')));
  const chosen = () => screens.find((s) => s.id === select.value);
  const follow = () => {
    const s = chosen();
    name.value = s.name;
    languageSelect.value = s.language;
  };
  select.addEventListener('change', follow);
  box.append(h('label', { for: 'pair-screen' }, t('display.screenLabel')), select);
  follow();
  return {
    ok: () => !!chosen(),
    after: async (answer) => {
      const s = chosen();
      try {
        await api(`/api/v1/branches/${encodeURIComponent(branch)}/screens/${encodeURIComponent(s.id)}`, {
          method: 'PUT',
          body: { name: s.name, language: languageSelect.value, layout: s.layout, device: answer.device.id },
        });
      } catch (err) {
        // The device is of no use without its screen.
        await api(`/api/v1/branches/${encodeURIComponent(branch)}/devices/${encodeURIComponent(answer.device.id)}`, { method: 'DELETE' }).catch(() => {});
        throw err;
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Start

async function whoAmI() {
  for (let delay = 2000; ; delay = Math.min(delay * 2, 30000)) {
    try {
      const screen = await api('/api/v1/screens/me', { token: board.token });
      keep(KEYS.screen, screen);
      return screen;
    } catch (err) {
      if (err.status === 401) {
        device.clear('display');
        location.reload();
        return null;
      }
      if (err.code === 'no_screen') {
        render(h('section', { class: 'card not-a-screen' },
          h('h1', {}, t('display.noScreenTitle')),
          h('p', {}, t('display.noScreen')),
          h('button', { type: 'button', class: 'primary', onclick: () => { device.clear('display'); location.reload(); } }, t('display.pairAgain'))));
        return null;
      }
      // The server is away: the screen it was last time, if any.
      const cached = load(KEYS.screen);
      if (cached) return cached;
      failWith('display', err);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

async function main() {
  await setLanguage(await chooseLanguage('screen'));
  offlineShell();
  board.token = device.token('display');
  if (!board.token) {
    document.body.classList.add('display-pairing');
    board.token = await pair({ kind: 'display', section: 'display', extra: screensOf });
    document.body.classList.remove('display-pairing');
  }
  const screen = await whoAmI();
  if (!screen) return;
  board.screen = screen;
  await setLanguage(screen.language, 'screen');
  document.body.classList.add('display');
  document.title = `${t('display.title')} · ${screen.name}`;
  const cached = load(KEYS.content);
  if (cached && cached.screen === screen.id && cached.content) {
    board.content = cached.content;
    board.offset = cached.offset || 0;
    board.etag = load(KEYS.etag);
  }
  board.media.known = load(KEYS.media) || [];
  announce('');
  draw();
  await refresh();
  if (!board.content) render(h('p', { class: 'loading' }, t('display.waitingForServer')), h('div', { id: 'reconnecting', class: 'reconnecting', role: 'status' }, t('display.reconnecting')));
  openStream();
  warmManifest();
  setInterval(warmManifest, 3600 * 1000);
  setInterval(tick, 1000);
  window.addEventListener('online', () => refresh());
}

main();
