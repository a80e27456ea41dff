// The kiosk: a touch screen at the branch entrance. Paired once by a manager, it then serves
// one customer after the other: choose a language, then a service (a ticket), a booking
// check-in (a code typed or scanned) or a customer number (a customer's ticket). The ticket
// is shown and printed (80 mm thermal paper) with a QR code of its tracking page; after
// each customer, or a minute without a touch, the kiosk is back at its start screen in its
// own language.
import {
  api, device, h, render, t, announce, setLanguage, chooseLanguage, localized, languagePicker,
  digits, formatDate, formatTime, formatDuration, qrUrl, offlineShell,
} from '/assets/app.js';
import { pair, busy, failWith } from '/assets/pages/kiosk-pair.js';

/** Seconds a ticket stays on screen before the kiosk is ready for the next customer. */
const TICKET_SECS = 15;
/** Seconds without a touch before a customer's session is dropped. */
const IDLE_SECS = 60;

const kiosk = {
  token: null,
  branch: null, // the branch record (`time_zone`, `name`)
  services: [],
  classes: [],
  language: 'en', // the kiosk's own language, back after each customer
  screen: 'start',
};

let idleTimer = null;
let ticketTimer = null;
let scanner = null;

const fail = (err) => {
  if (err && err.status === 401) {
    // The device was removed: pair again.
    device.clear('kiosk');
    location.reload();
    return;
  }
  failWith('kiosk', err);
};

const path = (...parts) => `/api/v1/branches/${parts.map(encodeURIComponent).join('/')}`;

// ---------------------------------------------------------------------------------------------
// A customer's session: idle time, back to the start

function touched() {
  clearTimeout(idleTimer);
  if (kiosk.screen === 'start' && document.documentElement.lang === kiosk.language) return;
  idleTimer = setTimeout(() => startScreen(), IDLE_SECS * 1000);
}

function stopTimers() {
  clearTimeout(idleTimer);
  clearInterval(ticketTimer);
  ticketTimer = null;
  stopScanner();
}

async function startScreen({ keepLanguage = false } = {}) {
  stopTimers();
  if (!keepLanguage && document.documentElement.lang !== kiosk.language) await setLanguage(kiosk.language);
  kiosk.screen = 'start';
  announce('');
  drawStart();
  touched();
}

function header() {
  return h('header', { class: 'kiosk-head' },
    h('div', {},
      h('p', { class: 'kiosk-branch' }, localized(kiosk.branch.name)),
      h('h1', {}, t('kiosk.title'))),
    h('div', { class: 'kiosk-clock', 'aria-hidden': 'true' }, formatTime(new Date(), kiosk.branch.time_zone)));
}

async function pickerFor() {
  return languagePicker(async (code) => {
    await setLanguage(code);
    kiosk.screen = 'start';
    drawStart();
    touched();
  });
}

async function drawStart() {
  const picker = await pickerFor();
  const services = kiosk.services.map((s) => h('button', {
    type: 'button',
    class: 'service',
    dataset: { prefix: s.prefix },
    onclick: (e) => takeTicket(s, e.currentTarget),
  }, h('span', { class: 'prefix', 'aria-hidden': 'true' }, s.prefix), h('span', { class: 'name' }, localized(s.name))));
  render(
    header(),
    h('section', { class: 'kiosk-languages', 'aria-labelledby': 'choose-language' },
      h('h2', { id: 'choose-language' }, t('kiosk.chooseLanguage')), picker),
    h('section', { class: 'kiosk-services', 'aria-labelledby': 'choose-service' },
      h('h2', { id: 'choose-service' }, t('kiosk.chooseService')),
      services.length ? h('div', { class: 'service-grid' }, services) : h('p', { class: 'muted' }, t('kiosk.noServices'))),
    h('nav', { class: 'kiosk-more', 'aria-label': t('kiosk.more') },
      h('button', { type: 'button', class: 'big', id: 'check-in', onclick: () => checkInScreen() }, t('kiosk.checkIn')),
      h('button', { type: 'button', class: 'big', id: 'customer', onclick: () => customerScreen() }, t('kiosk.customer'))),
  );
}

// ---------------------------------------------------------------------------------------------
// Tickets

async function takeTicket(service, button, customerNumber) {
  touched();
  await busy(button, async () => {
    document.querySelectorAll('.service').forEach((b) => { b.disabled = true; });
    try {
      const body = { service: service.id };
      if (customerNumber) body.customer_number = customerNumber;
      const ticket = await api(path(kiosk.branch.id, 'tickets'), { method: 'POST', body, token: kiosk.token });
      showTicket(ticket, null, customerNumber);
    } finally {
      document.querySelectorAll('.service').forEach((b) => { b.disabled = false; });
    }
  }, fail);
}

function serviceOf(id) {
  return kiosk.services.find((s) => s.id === id);
}

/** The ticket, on screen and as printed: number, service, date and time in the branch's
 *  zone, people ahead, estimated wait, and a QR code of its tracking page. */
function ticketCard(ticket, booking, customerNumber) {
  const tz = kiosk.branch.time_zone;
  const service = serviceOf(ticket.service);
  const link = `${location.origin}/track/${encodeURIComponent(kiosk.branch.id)}/${encodeURIComponent(ticket.id)}`;
  const facts = [];
  const kind = customerNumber ? kiosk.classes.find((c) => c.code === ticket.class) : null;
  if (kind) facts.push(h('p', { class: 'ticket-class' }, localized(kind.name)));
  if (booking) facts.push(h('p', { class: 'appointment' }, t('kiosk.appointment', { time: formatTime(booking.start, tz) })));
  if (ticket.ahead != null) {
    facts.push(h('p', { class: 'ahead' }, ticket.ahead === 0 ? t('kiosk.noneAhead') : t('kiosk.ahead', { n: ticket.ahead })));
  }
  if (ticket.estimated_wait_secs != null) {
    facts.push(h('p', { class: 'wait' }, t('kiosk.wait', { time: formatDuration(ticket.estimated_wait_secs) })));
  }
  return h('article', { class: 'ticket', id: 'ticket', 'aria-labelledby': 'ticket-number' },
    h('p', { class: 'ticket-branch' }, localized(kiosk.branch.name)),
    h('p', { class: 'ticket-label' }, t('kiosk.yourNumber')),
    h('p', { class: 'ticket-number', id: 'ticket-number', dir: 'ltr' }, digits(ticket.display)),
    h('p', { class: 'ticket-service' }, service ? localized(service.name) : ''),
    h('p', { class: 'ticket-when' },
      h('span', { class: 'ticket-date' }, formatDate(ticket.issued_at, tz)), ' ',
      h('span', { class: 'ticket-time' }, formatTime(ticket.issued_at, tz))),
    facts,
    h('figure', { class: 'ticket-qr' },
      h('img', { src: qrUrl(link), alt: t('kiosk.qrAlt'), width: 160, height: 160 }),
      h('figcaption', {}, t('kiosk.track'))));
}

function printTicket() {
  // A test browser (WebDriver) would wait on the print dialog: never print there.
  if (navigator.webdriver || typeof window.print !== 'function') return;
  try {
    window.print();
  } catch (err) {
    console.error(err);
  }
}

function showTicket(ticket, booking, customerNumber) {
  stopTimers();
  kiosk.screen = 'ticket';
  announce('');
  let left = TICKET_SECS;
  const countdown = h('p', { class: 'countdown muted', 'aria-live': 'off' }, t('kiosk.returning', { n: left }));
  const card = ticketCard(ticket, booking, customerNumber);
  render(
    h('section', { class: 'kiosk-ticket' },
      h('h1', { class: 'no-print' }, t(booking ? 'kiosk.checkedIn' : 'kiosk.ticketTitle')),
      card,
      h('div', { class: 'row actions no-print' },
        h('button', { type: 'button', class: 'primary big', id: 'done', onclick: () => startScreen() }, t('kiosk.done')),
        h('button', { type: 'button', class: 'big', onclick: () => printTicket() }, t('kiosk.print'))),
      h('div', { class: 'no-print' }, countdown)),
  );
  announce(t('kiosk.ticketReady', { number: digits(ticket.display) }), 'ok');
  // Let the page draw (and the QR load) before the print dialog takes over.
  const img = card.querySelector('img');
  const print = () => setTimeout(printTicket, 100);
  if (img.complete) print(); else { img.addEventListener('load', print, { once: true }); img.addEventListener('error', print, { once: true }); }
  ticketTimer = setInterval(() => {
    left -= 1;
    if (left <= 0) startScreen();
    else countdown.textContent = t('kiosk.returning', { n: left });
  }, 1000);
}

// ---------------------------------------------------------------------------------------------
// Booking check-in

function stopScanner() {
  if (!scanner) return;
  scanner.stop();
  scanner = null;
}

/** The booking code in a scanned QR code: the code itself, or a link ending in it. */
function codeOf(raw) {
  const text = String(raw || '').trim();
  const match = text.match(/([0-9A-Za-z]{4}-?[0-9A-Za-z]{4})\/?(?:[?#].*)?$/);
  return match ? match[1] : text;
}

async function startScanner(video, onCode) {
  const detector = new window.BarcodeDetector({ formats: ['qr_code'] });
  const media = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'user' }, audio: false });
  video.srcObject = media;
  await video.play();
  let stopped = false;
  const tick = async () => {
    if (stopped) return;
    try {
      const found = await detector.detect(video);
      if (found.length) {
        onCode(codeOf(found[0].rawValue));
        return;
      }
    } catch (err) { /* a frame not ready */ }
    setTimeout(tick, 300);
  };
  tick();
  scanner = {
    stop() {
      stopped = true;
      media.getTracks().forEach((track) => track.stop());
      video.srcObject = null;
    },
  };
}

async function checkIn(code, button) {
  const clean = code.replace(/\s+/g, '').toUpperCase();
  if (!clean) {
    announce(t('kiosk.codeMissing'), 'error');
    return;
  }
  await busy(button, async () => {
    const answer = await api(path(kiosk.branch.id, 'bookings', clean, 'check-in'), { method: 'POST', token: kiosk.token });
    showTicket(answer.ticket, answer.booking);
  }, fail);
}

function checkInScreen() {
  stopTimers();
  kiosk.screen = 'check-in';
  announce('');
  const input = h('input', {
    id: 'booking-code', name: 'code', autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false',
    inputmode: 'text', maxlength: 20, required: true, dir: 'ltr', 'aria-describedby': 'code-hint',
  });
  const submit = h('button', { type: 'submit', class: 'primary big', id: 'check-in-submit' }, t('kiosk.checkInButton'));
  const video = h('video', { class: 'scan-video', muted: true, playsinline: true, hidden: true, 'aria-hidden': 'true' });
  let scan = null;
  if ('BarcodeDetector' in window && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    scan = h('button', {
      type: 'button', class: 'big', id: 'scan',
      onclick: async () => {
        touched();
        if (scanner) {
          stopScanner();
          video.hidden = true;
          scan.textContent = t('kiosk.scan');
          return;
        }
        try {
          video.hidden = false;
          scan.textContent = t('kiosk.stopScan');
          announce(t('kiosk.scanning'), 'info');
          await startScanner(video, (code) => {
            stopScanner();
            video.hidden = true;
            input.value = code;
            checkIn(code, submit);
          });
        } catch (err) {
          console.error(err);
          stopScanner();
          video.hidden = true;
          scan.textContent = t('kiosk.scan');
          announce(t('kiosk.cameraFailed'), 'error');
        }
      },
    }, t('kiosk.scan'));
  }
  render(
    header(),
    h('form', {
      class: 'card kiosk-form',
      onsubmit: (e) => {
        e.preventDefault();
        touched();
        checkIn(input.value, submit);
      },
    },
    h('h2', {}, t('kiosk.checkInTitle')),
    h('label', { for: 'booking-code' }, t('kiosk.codeLabel')), input,
    h('p', { id: 'code-hint', class: 'muted' }, t('kiosk.codeHint')),
    h('div', { class: 'row actions' }, submit, scan),
    video),
    h('button', { type: 'button', class: 'big back', onclick: () => startScreen({ keepLanguage: true }) }, t('common.back')),
  );
  input.focus();
  touched();
}

// ---------------------------------------------------------------------------------------------
// A known customer (VIP and others): their number, then a service

async function findCustomer(number) {
  // The ticket carries the number; asking first gives a clear answer before the service
  // is chosen.
  return api(`/api/v1/customers?number=${encodeURIComponent(number)}`, { token: kiosk.token });
}

function customerScreen() {
  stopTimers();
  kiosk.screen = 'customer';
  announce('');
  const input = h('input', {
    id: 'customer-number', name: 'number', autocomplete: 'off', inputmode: 'numeric', maxlength: 32,
    required: true, dir: 'ltr', 'aria-describedby': 'customer-hint',
  });
  const submit = h('button', { type: 'submit', class: 'primary big', id: 'customer-submit' }, t('kiosk.continue'));
  render(
    header(),
    h('form', {
      class: 'card kiosk-form',
      onsubmit: (e) => {
        e.preventDefault();
        touched();
        const number = input.value.trim();
        if (!number) {
          announce(t('kiosk.numberMissing'), 'error');
          return;
        }
        busy(submit, async () => {
          const customer = await findCustomer(number);
          customerServices(customer.number || number);
        }, fail);
      },
    },
    h('h2', {}, t('kiosk.customerTitle')),
    h('label', { for: 'customer-number' }, t('kiosk.customerLabel')), input,
    h('p', { id: 'customer-hint', class: 'muted' }, t('kiosk.customerHint')),
    h('div', { class: 'row actions' }, submit)),
    h('button', { type: 'button', class: 'big back', onclick: () => startScreen({ keepLanguage: true }) }, t('common.back')),
  );
  input.focus();
  touched();
}

function customerServices(number) {
  kiosk.screen = 'customer-services';
  announce('');
  render(
    header(),
    h('section', { class: 'kiosk-services', 'aria-labelledby': 'choose-service' },
      h('h2', { id: 'choose-service' }, t('kiosk.customerWelcome', { number: digits(number) })),
      h('div', { class: 'service-grid' }, kiosk.services.map((s) => h('button', {
        type: 'button', class: 'service', dataset: { prefix: s.prefix },
        onclick: (e) => takeTicket(s, e.currentTarget, number),
      }, h('span', { class: 'prefix', 'aria-hidden': 'true' }, s.prefix), h('span', { class: 'name' }, localized(s.name)))))),
    h('button', { type: 'button', class: 'big back', onclick: () => startScreen({ keepLanguage: true }) }, t('common.back')),
  );
  touched();
}

// ---------------------------------------------------------------------------------------------
// Start

async function load() {
  const me = await api('/api/v1/me', { token: kiosk.token });
  const branchId = me.branches && me.branches[0];
  if (me.role !== 'kiosk' || !branchId) {
    device.clear('kiosk');
    location.reload();
    return false;
  }
  const config = await api(path(branchId), { token: kiosk.token });
  kiosk.branch = config.branch;
  kiosk.services = config.services || [];
  kiosk.classes = config.classes || [];
  // The kiosk's own language, chosen when it was paired.
  if (me.language) kiosk.language = me.language;
  return true;
}

async function main() {
  await setLanguage(await chooseLanguage('kiosk'));
  kiosk.language = document.documentElement.lang;
  document.body.classList.add('kiosk');
  offlineShell();
  kiosk.token = device.token('kiosk');
  if (!kiosk.token) {
    kiosk.token = await pair({ kind: 'kiosk', section: 'kiosk' });
  }
  for (;;) {
    try {
      if (await load()) break;
      return;
    } catch (err) {
      if (err.status === 401) {
        fail(err);
        return;
      }
      failWith('kiosk', err);
      await new Promise((r) => setTimeout(r, 5000));
    }
  }
  document.title = `${t('kiosk.title')} · ${localized(kiosk.branch.name)}`;
  for (const type of ['pointerdown', 'keydown', 'input']) document.addEventListener(type, touched, { passive: true });
  // Keep the header clock right.
  setInterval(() => {
    const clock = document.querySelector('.kiosk-clock');
    if (clock) clock.textContent = formatTime(new Date(), kiosk.branch.time_zone);
  }, 15000);
  await startScreen();
}

main();
