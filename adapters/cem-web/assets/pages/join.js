// Joining a branch's queue from afar: choose a service (with its wait now), leave a phone
// number or e-mail address for messages if wished, take the ticket, then follow it.
import { t, h, api, digits, formatDuration, pathParams, language, announce } from '/assets/app.js';
import {
  startCustomerPage, frame, problem, busy, branchInfo, openingLine, activeTickets, saveTicket,
  rememberBranch, badge,
} from '/assets/pages/customer-common.js';

const [branch] = pathParams();
let info = null;
let chosen = null;
const contact = { phone: '', email: '' };

await startCustomerPage();
await load();

async function load() {
  try {
    info = await branchInfo(branch);
    rememberBranch(branch);
    if (!chosen && info.services.length === 1) chosen = info.services[0].id;
  } catch (err) {
    problem(err, 'join');
  }
  draw();
}

async function take(button) {
  if (!chosen) {
    announce(t('join.chooseFirst'), 'error');
    document.querySelector('.join-services input')?.focus();
    return;
  }
  const body = { service: chosen };
  const phone = contact.phone.trim();
  const email = contact.email.trim();
  if (phone || email) {
    body.contact = { phone: phone || null, email: email || null, language: language().code };
  }
  await busy(button, async () => {
    const ticket = await api(`/api/v1/branches/${encodeURIComponent(branch)}/tickets`, { method: 'POST', body, token: null });
    saveTicket(branch, ticket, info ? info.name : '');
    announce(t('join.taken', { display: digits(ticket.display) }), 'ok');
    location.assign(`/track/${encodeURIComponent(branch)}/${encodeURIComponent(ticket.id)}`);
  }, 'join');
}

function serviceChoice(s) {
  const id = `join-service-${s.prefix}`;
  return h('label', { class: 'cust-choice', for: id },
    h('input', {
      type: 'radio', name: 'service', id, value: s.id, checked: chosen === s.id,
      onchange: () => { chosen = s.id; },
    }),
    h('span', { class: 'face' },
      h('span', { class: 'title' }, s.name),
      h('span', { class: 'meta' },
        t('join.waitingNow', { n: s.waiting }), t('find.sep'),
        s.estimated_wait_secs == null ? t('join.noEstimate') : t('join.aboutWait', { wait: formatDuration(s.estimated_wait_secs) }))));
}

function draw() {
  if (!info) {
    frame(load, h('h1', {}, t('join.title')), h('p', { class: 'card' }, t('join.noBranch')),
      h('button', { type: 'button', onclick: load }, t('common.retry')));
    return;
  }
  document.title = `${t('join.title')} – ${info.name}`;
  const mine = activeTickets().filter((s) => s.branch === branch);
  const phone = h('input', {
    id: 'join-phone', type: 'tel', autocomplete: 'tel', inputmode: 'tel', dir: 'ltr', placeholder: '+49 30 1234567',
    value: contact.phone, oninput: (e) => { contact.phone = e.target.value; },
  });
  const email = h('input', {
    id: 'join-email', type: 'email', autocomplete: 'email', dir: 'ltr', placeholder: 'name@example.com',
    value: contact.email, oninput: (e) => { contact.email = e.target.value; },
  });
  const takeButton = h('button', {
    type: 'submit', class: 'primary cust-wide join-take', disabled: !info.open_now,
  }, t('join.take'));
  frame(load,
    h('h1', {}, t('join.title')),
    h('section', { class: 'card join-branch' },
      h('div', { class: 'join-head' }, h('h2', {}, info.name),
        badge(info.open_now ? t('find.open') : t('find.closed'), info.open_now ? 'ok' : 'bad')),
      h('p', {}, openingLine(info)),
      info.address ? h('p', { class: 'cust-hint' }, info.address) : null,
      h('p', { class: 'cust-hint', 'aria-live': 'polite' }, t('join.totalWaiting', { n: info.services.reduce((a, s) => a + s.waiting, 0) }))),
    mine.length ? h('section', { class: 'card join-mine' },
      h('p', {}, t('join.already')),
      mine.map((s) => h('a', { class: 'button', href: `/track/${s.branch}/${s.ticket}` }, t('join.follow', { display: digits(s.display) })))) : null,
    !info.open_now ? h('p', { class: 'card cust-offline join-closed', role: 'note' }, t('join.closedNow')) : null,
    h('form', {
      class: 'join-form',
      onsubmit: (e) => { e.preventDefault(); take(takeButton); },
    },
    h('fieldset', { class: 'cust-choices join-services' },
      h('legend', {}, t('join.chooseService')),
      info.services.map(serviceChoice)),
    h('details', { class: 'card join-contact', open: Boolean(contact.phone || contact.email) },
      h('summary', {}, t('join.contactTitle')),
      h('p', { class: 'cust-hint' }, t('join.contactHint')),
      h('label', { for: 'join-phone' }, t('join.phone')), phone,
      h('p', { class: 'cust-hint' }, t('join.phoneHint')),
      h('label', { for: 'join-email' }, t('join.email')), email,
      h('p', { class: 'cust-hint' }, t('join.languageNote'))),
    takeButton,
    h('p', { class: 'cust-hint' }, t('join.privacy'))),
    h('p', {}, h('a', { href: `/booking/${branch}` }, t('join.orBook'))),
  );
}

// The waits move: read them again now and then while the customer chooses.
setInterval(() => {
  if (document.hidden || !info) return;
  branchInfo(branch).then((fresh) => {
    info = fresh;
    for (const s of info.services) {
      const meta = document.querySelector(`#join-service-${CSS.escape(s.prefix)} + .face .meta`);
      if (meta) {
        meta.textContent = `${t('join.waitingNow', { n: s.waiting })}${t('find.sep')}${s.estimated_wait_secs == null ? t('join.noEstimate') : t('join.aboutWait', { wait: formatDuration(s.estimated_wait_secs) })}`;
      }
    }
  }).catch(() => {});
}, 30000);

