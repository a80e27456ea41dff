// Booking a visit: `/booking/{branch}` chooses a service that takes appointments, a day and a
// free time, and the holder's name and contact, then books; `/booking/{branch}/{code}` is the
// booking: its time in the branch's zone (Jalali in Persian), QR code, calendar file, and
// cancelling, moving to another free time or taking a seat offered from the waitlist.
import {
  t, h, api, formatTime, formatDateTime, pathParams, language, announce,
} from '/assets/app.js';
import {
  startCustomerPage, frame, problem, busy, branchInfo, saveBooking, rememberBranch, badge,
  serviceName, localDate, addDays, dayText, longDate,
} from '/assets/pages/customer-common.js';

const [branch, code] = pathParams();
const base = `/api/v1/branches/${encodeURIComponent(branch)}`;
const DAYS = 14;
const LIVE_STATES = ['confirmed', 'waitlisted', 'offered'];
const STATE_KIND = { confirmed: 'ok', checked_in: 'ok', waitlisted: 'warn', offered: 'warn', cancelled: 'bad', no_show: 'bad', lapsed: 'bad' };

let info = null;
let offers = []; // [{service, slots}] for services that take appointments
let loaded = false;
const pick = { service: null, day: null, slot: null };
const holder = { name: '', phone: '', email: '' };
let booking = null;
let rescheduling = false;
let confirmingCancel = false;

await startCustomerPage();
await load();

// A place on the waitlist may be offered meanwhile: the booking is read again now and then.
setInterval(async () => {
  if (!code || !booking || document.hidden || rescheduling || confirmingCancel) return;
  if (!['waitlisted', 'offered'].includes(booking.state)) return;
  try {
    const fresh = await api(`${base}/bookings/${encodeURIComponent(code)}`, { token: null });
    if (fresh.state !== booking.state) {
      booking = fresh;
      saveBooking(branch, booking, info.name);
      draw();
    }
  } catch (e) { /* offline for now: the next round tries again */ }
}, 20000);

async function load() {
  try {
    info = await branchInfo(branch);
    rememberBranch(branch);
    if (code) {
      booking = await api(`${base}/bookings/${encodeURIComponent(code)}`, { token: null });
      saveBooking(branch, booking, info.name);
    } else {
      await loadSlots();
    }
  } catch (err) {
    problem(err, 'booking');
  }
  loaded = true;
  draw();
}

/** The slots of every service over the next days; services without a plan are left out. */
async function loadSlots(only) {
  const from = localDate(new Date(), info.time_zone);
  const to = addDays(from, DAYS - 1);
  const services = only ? info.services.filter((s) => s.id === only) : info.services;
  const found = await Promise.all(services.map((s) => api(`${base}/services/${s.id}/slots?from=${from}&to=${to}`, { token: null })
    .then((slots) => ({ service: s, slots }))
    .catch((err) => {
      if (err.code === 'no_plan' || err.status === 404) return null;
      throw err;
    })));
  offers = found.filter(Boolean);
  if (!pick.service && offers.length === 1) pick.service = offers[0].service.id;
  if (pick.service && !offers.some((o) => o.service.id === pick.service)) pick.service = null;
}

function slotsOf(serviceId) {
  const offer = offers.find((o) => o.service.id === serviceId);
  return offer ? offer.slots.filter((s) => s.status === 'open' || s.status === 'full') : [];
}

function daysOf(serviceId) {
  const days = new Map();
  for (const s of slotsOf(serviceId)) {
    const day = s.local_start.slice(0, 10);
    days.set(day, (days.get(day) || 0) + s.available);
  }
  return [...days];
}

// ---------------------------------------------------------------------------------------------
// Choosing a time (a new booking, or moving one)

function radio(name, id, value, checked, onchange, title, meta, disabled) {
  return h('label', { class: 'cust-choice', for: id },
    h('input', { type: 'radio', name, id, value, checked, disabled, onchange }),
    h('span', { class: 'face' }, h('span', { class: 'title' }, title), meta ? h('span', { class: 'meta' }, meta) : null));
}

function servicePicker() {
  return h('fieldset', { class: 'cust-choices booking-services' },
    h('legend', {}, t('booking.chooseService')),
    offers.map((o) => radio('service', `booking-service-${o.service.prefix}`, o.service.id, pick.service === o.service.id, () => {
      pick.service = o.service.id; pick.day = null; pick.slot = null; draw();
    }, o.service.name, null)));
}

function dayPicker(serviceId) {
  const days = daysOf(serviceId);
  if (!days.length) return h('p', { class: 'card booking-none' }, t('booking.noDays'));
  if (!pick.day || !days.some(([d]) => d === pick.day)) {
    const firstFree = days.find(([, free]) => free > 0);
    pick.day = (firstFree || days[0])[0];
  }
  return h('fieldset', { class: 'cust-choices booking-days' },
    h('legend', {}, t('booking.chooseDay')),
    h('div', { class: 'booking-day-list' },
      days.map(([day, free]) => radio('day', `booking-day-${day}`, day, pick.day === day, () => {
        pick.day = day; pick.slot = null; draw();
      }, dayText(day, 'short'), free ? t('booking.free', { n: free }) : t('booking.full')))));
}

function slotPicker(serviceId, current) {
  const slots = slotsOf(serviceId).filter((s) => s.local_start.startsWith(pick.day || '-'));
  if (!slots.length) return null;
  return h('fieldset', { class: 'cust-choices booking-slots' },
    h('legend', {}, t('booking.chooseTime', { day: dayText(pick.day) })),
    h('div', { class: 'booking-slot-list' },
      slots.map((s) => {
        const full = s.status === 'full';
        const same = current && s.start === current;
        return radio('slot', `booking-slot-${s.start.replace(/[^0-9]/g, '')}`, s.start, pick.slot === s.start, () => {
          pick.slot = s.start; draw();
        }, formatTime(s.start, info.time_zone), same ? t('booking.yours') : full ? t('booking.fullWaitlist') : t('booking.seats', { n: s.available }), Boolean(same));
      })));
}

function chosenSlot() {
  return slotsOf(pick.service).find((s) => s.start === pick.slot) || null;
}

// ---------------------------------------------------------------------------------------------
// A new booking

async function book(button) {
  const slot = chosenSlot();
  if (!slot) {
    announce(t('booking.chooseFirst'), 'error');
    return;
  }
  if (!holder.phone.trim() && !holder.email.trim()) {
    announce(t('booking.contactNeeded'), 'error');
    document.getElementById('booking-phone')?.focus();
    return;
  }
  await busy(button, async () => {
    try {
      const made = await api(`${base}/bookings`, {
        method: 'POST',
        token: null,
        body: {
          service: pick.service,
          start: slot.start,
          waitlist: slot.status === 'full',
          holder: {
            name: holder.name.trim() || null,
            phone: holder.phone.trim() || null,
            email: holder.email.trim() || null,
            language: language().code,
          },
        },
      });
      saveBooking(branch, made, info.name);
      location.assign(`/booking/${encodeURIComponent(branch)}/${encodeURIComponent(made.code)}`);
    } catch (err) {
      if (['slot_full', 'no_such_slot', 'too_late_to_book', 'slot_not_full'].includes(err.code)) {
        pick.slot = null;
        await loadSlots().catch(() => {});
        draw();
      }
      throw err;
    }
  }, 'booking');
}

function newBookingView() {
  if (!offers.length) {
    return [h('p', { class: 'card booking-none' }, t('booking.noAppointments')),
      h('p', {}, h('a', { href: `/join/${branch}` }, t('booking.joinInstead')))];
  }
  const slot = chosenSlot();
  const field = (key, type, auto, extra = {}) => [
    h('label', { for: `booking-${key}` }, t(`booking.${key}`)),
    h('input', {
      id: `booking-${key}`, type, autocomplete: auto, value: holder[key],
      oninput: (e) => { holder[key] = e.target.value; }, ...extra,
    })];
  const submit = h('button', { type: 'submit', class: 'primary cust-wide booking-submit', disabled: !slot },
    slot ? (slot.status === 'full' ? t('booking.joinWaitlist') : t('booking.bookAt', { time: formatTime(slot.start, info.time_zone) })) : t('booking.book'));
  return h('form', { class: 'booking-form', onsubmit: (e) => { e.preventDefault(); book(submit); } },
    servicePicker(),
    pick.service ? dayPicker(pick.service) : null,
    pick.service && pick.day ? slotPicker(pick.service, null) : null,
    slot ? h('section', { class: 'card booking-holder' },
      h('h2', {}, t('booking.you')),
      h('p', { class: 'cust-hint' }, t('booking.chosen', {
        service: serviceName(info, pick.service), when: formatDateTime(slot.start, info.time_zone),
      })),
      field('name', 'text', 'name'),
      field('phone', 'tel', 'tel', { dir: 'ltr', inputmode: 'tel', placeholder: '+49 30 1234567' }),
      field('email', 'email', 'email', { dir: 'ltr', placeholder: 'name@example.com' }),
      h('p', { class: 'cust-hint' }, t('booking.contactHint')),
      slot.status === 'full' ? h('p', { class: 'cust-offline' }, t('booking.waitlistHint')) : null) : null,
    submit);
}

// ---------------------------------------------------------------------------------------------
// An existing booking

async function act(button, path, body, okKey) {
  await busy(button, async () => {
    booking = await api(`${base}/bookings/${encodeURIComponent(code)}/${path}`, { method: 'POST', token: null, body });
    saveBooking(branch, booking, info.name);
    rescheduling = false;
    confirmingCancel = false;
    announce(t(okKey), 'ok');
    draw();
  }, 'booking');
}

async function startReschedule(button) {
  await busy(button, async () => {
    pick.service = booking.service;
    pick.day = localDate(booking.start, info.time_zone);
    pick.slot = null;
    await loadSlots(booking.service);
    rescheduling = true;
    draw();
  }, 'booking');
}

function bookingView() {
  const tz = info.time_zone;
  const live = LIVE_STATES.includes(booking.state);
  const ics = `${base}/bookings/${encodeURIComponent(booking.code)}/calendar.ics`;
  const parts = [
    h('section', { class: 'card booking-card' },
      h('div', { class: 'booking-head' },
        h('h2', {}, serviceName(info, booking.service) || t('booking.visit')),
        badge(t(`booking.state.${booking.state}`), STATE_KIND[booking.state])),
      h('p', { class: 'booking-date', id: 'booking-date' }, longDate(booking.start, tz)),
      h('p', { class: 'booking-time', id: 'booking-time' },
        t('booking.fromTo', { from: formatTime(booking.start, tz), to: formatTime(booking.end, tz) })),
      h('p', { class: 'booking-place' }, info.name, info.address ? `${t('find.sep')}${info.address}` : ''),
      h('p', { class: 'cust-hint' }, t('booking.zone', { zone: tz })),
      h('p', { class: 'booking-code-line' }, t('booking.code'), ' ', h('strong', { class: 'booking-code', dir: 'ltr' }, booking.code)),
      live || booking.state === 'checked_in' ? h('img', {
        class: 'booking-qr', src: `${base}/bookings/${encodeURIComponent(booking.code)}/qr.svg`,
        alt: t('booking.qrAlt', { code: booking.code }), width: 200, height: 200,
      }) : null,
      live ? h('p', { class: 'cust-hint' }, t('booking.qrHint')) : null),
  ];
  if (booking.state === 'offered') {
    const accept = h('button', { type: 'button', class: 'primary cust-wide booking-accept', onclick: (e) => act(e.currentTarget, 'accept', undefined, 'booking.accepted') }, t('booking.accept'));
    parts.unshift(h('section', { class: 'card booking-offer', role: 'alert' },
      h('p', {}, booking.offer_expires_at
        ? t('booking.offered', { time: formatDateTime(booking.offer_expires_at, tz) })
        : t('booking.offeredNoTime')),
      accept));
  }
  if (booking.state === 'waitlisted') parts.unshift(h('p', { class: 'card cust-offline booking-waitlisted' }, t('booking.waitlisted')));
  if (booking.state === 'checked_in' && booking.ticket) {
    parts.push(h('p', { class: 'card' }, h('a', { class: 'button primary', href: `/track/${branch}/${booking.ticket}` }, t('booking.followTicket'))));
  }
  if (live) {
    parts.push(h('div', { class: 'cust-actions booking-tools' },
      h('a', { class: 'button', href: ics, download: `booking-${booking.code}.ics` }, t('booking.calendar')),
      booking.state === 'confirmed' && !rescheduling ? h('button', { type: 'button', class: 'booking-move', onclick: (e) => startReschedule(e.currentTarget) }, t('booking.reschedule')) : null,
      !confirmingCancel ? h('button', { type: 'button', class: 'booking-cancel', onclick: () => { confirmingCancel = true; draw(); document.querySelector('.booking-cancel-no')?.focus(); } }, booking.state === 'confirmed' ? t('booking.cancel') : t('booking.leaveWaitlist')) : null));
    if (confirmingCancel) {
      parts.push(h('div', { class: 'cust-confirm', role: 'group', 'aria-labelledby': 'booking-cancel-q' },
        h('p', { id: 'booking-cancel-q' }, t('booking.cancelQuestion')),
        h('div', { class: 'cust-actions' },
          h('button', { type: 'button', class: 'danger booking-cancel-yes', onclick: (e) => act(e.currentTarget, 'cancel', undefined, 'booking.cancelled') }, t('booking.cancelYes')),
          h('button', { type: 'button', class: 'booking-cancel-no', onclick: () => { confirmingCancel = false; draw(); } }, t('booking.cancelNo')))));
    }
    if (rescheduling) {
      const slot = chosenSlot();
      const move = h('button', { type: 'submit', class: 'primary cust-wide booking-move-submit', disabled: !slot || slot.status !== 'open' },
        slot ? t('booking.moveTo', { when: formatDateTime(slot.start, tz) }) : t('booking.chooseNew'));
      parts.push(h('form', {
        class: 'card booking-reschedule',
        onsubmit: (e) => { e.preventDefault(); act(move, 'reschedule', { start: pick.slot }, 'booking.moved'); },
      },
      h('h2', {}, t('booking.rescheduleTitle')),
      dayPicker(booking.service),
      slotPicker(booking.service, booking.start),
      h('div', { class: 'cust-actions' }, move,
        h('button', { type: 'button', onclick: () => { rescheduling = false; draw(); } }, t('booking.keepTime')))));
    }
  }
  parts.push(h('p', { class: 'booking-links' },
    h('a', { href: `/booking/${branch}` }, t('booking.another')), t('find.sep'), h('a', { href: '/' }, t('booking.home'))));
  return parts;
}

function draw() {
  const title = code ? t('booking.yourBooking') : t('booking.title');
  document.title = title;
  if (!loaded) {
    frame(load, h('h1', {}, title), h('p', { class: 'loading' }, '…'));
    return;
  }
  if (!info || (code && !booking)) {
    frame(load, h('h1', {}, title), h('p', { class: 'card booking-missing' }, code ? t('booking.missing') : t('booking.noBranch')),
      h('button', { type: 'button', onclick: () => { loaded = false; draw(); load(); } }, t('common.retry')));
    return;
  }
  frame(load,
    h('h1', {}, title),
    code ? null : h('p', { class: 'booking-branch' }, h('strong', {}, info.name), info.address ? `${t('find.sep')}${info.address}` : ''),
    code ? bookingView() : newBookingView());
}

