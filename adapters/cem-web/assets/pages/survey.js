// A survey: `/survey/{token}` answers an invitation; `/survey/{branch}/{survey}` (a branch's
// link or QR code) opens an invitation for the visitor first. Questions by kind (NPS, CSAT,
// CES, rating, choices, text), only those the skip logic shows, required ones checked, then
// the thank-you screen.
import {
  t, h, api, num, localized, pathParams, language, languages, setLanguage, announce,
} from '/assets/app.js';
import { startCustomerPage, frame, problem, busy } from '/assets/pages/customer-common.js';

const params = pathParams();
const walkUp = params.length >= 2 ? { branch: params[0], survey: params[1] } : null;
const walkUpKey = walkUp ? `cem.survey.walkup.${walkUp.branch}.${walkUp.survey}` : null;
let token = walkUp ? sessionStorage.getItem(walkUpKey) : params[0];

let doc = null; // {invitation, survey}
let outcome = null; // null, 'done', 'already', 'expired', 'inactive', 'missing', 'offline'
const answers = new Map(); // question key → number | [option keys] | text
const replyTo = { wanted: false, phone: '', email: '' };
let missingKey = null;

await startCustomerPage();
draw();
await open();

async function open() {
  const chosen = localStorage.getItem('cem.lang.customer') || new URLSearchParams(location.search).get('lang');
  try {
    if (token) {
      try {
        doc = await api(`/api/v1/surveys/invitations/${encodeURIComponent(token)}`, { token: null });
      } catch (err) {
        // A walk-up visitor's invitation of this session, answered or gone: a fresh one.
        if (!walkUp || !['already_answered', 'invitation_expired', 'invitation_not_found'].includes(err.code)) throw err;
        if (err.code === 'already_answered') {
          outcome = 'already';
          draw();
          return;
        }
        token = null;
      }
    }
    if (!token && walkUp) {
      doc = await api(`/api/v1/branches/${encodeURIComponent(walkUp.branch)}/surveys/${encodeURIComponent(walkUp.survey)}/invitations`, {
        method: 'POST', token: null, body: { source: 'link', language: language().code },
      });
      token = doc.invitation.token;
      sessionStorage.setItem(walkUpKey, token);
    }
    // The invitation's language, unless the visitor chose one.
    const asked = doc && doc.invitation.language;
    if (!chosen && asked && asked !== language().code && (await languages()).some((l) => l.code === asked)) {
      await setLanguage(asked);
    }
  } catch (err) {
    outcome = {
      already_answered: 'already', invitation_expired: 'expired', survey_inactive: 'inactive',
      survey_not_offered: 'inactive', invitation_not_found: 'missing', survey_not_found: 'missing',
      offline: 'offline',
    }[err.code] || null;
    if (!outcome) problem(err, 'survey');
  }
  draw();
}

// ---------------------------------------------------------------------------------------------
// Skip logic, as the server reads it

function answered(v) {
  if (v == null) return false;
  if (typeof v === 'number') return true;
  if (Array.isArray(v)) return v.length > 0;
  return String(v).trim() !== '';
}

function holds(cond, v) {
  switch (cond.test) {
    case 'answered': return answered(v);
    case 'score_at_most': return typeof v === 'number' && v <= cond.value;
    case 'score_at_least': return typeof v === 'number' && v >= cond.value;
    case 'chose': return Array.isArray(v) ? v.includes(cond.value) : typeof v === 'string' && v.trim() === cond.value;
    default: return false;
  }
}

/** The questions shown for the answers given so far, in order. */
function visibleQuestions() {
  const shown = [];
  for (const q of doc.survey.questions) {
    const cond = q.show_if;
    const visible = !cond || (shown.some((s) => s.key === cond.question) && answered(answers.get(cond.question)) && holds(cond, answers.get(cond.question)));
    if (visible) shown.push(q);
  }
  return shown;
}

function set(key, value) {
  answers.set(key, value);
  if (missingKey === key && answered(value)) missingKey = null;
  // Only a question others depend on changes what is shown.
  if (doc.survey.questions.some((q) => q.show_if && q.show_if.question === key)) draw();
  else if (missingKey === null) document.querySelector('.survey-missing')?.classList.remove('survey-missing');
}

// ---------------------------------------------------------------------------------------------
// Questions

function scaleOf(kind) {
  switch (kind.type) {
    case 'nps': return [0, 10];
    case 'csat': return [1, 5];
    case 'ces': return [1, 7];
    case 'rating': return [kind.min, kind.max];
    default: return null;
  }
}

/** The words under a score, where the kind has them. */
function scoreWords(kind, v, min, max) {
  if (kind.type === 'csat') return t(`survey.csat.${v}`);
  if (kind.type === 'nps') return v === min ? t('survey.npsLow') : v === max ? t('survey.npsHigh') : '';
  if (kind.type === 'ces') {
    const easyHigh = kind.direction !== 'low_is_easy';
    if (v === min) return easyHigh ? t('survey.cesDisagree') : t('survey.cesLittle');
    if (v === max) return easyHigh ? t('survey.cesAgree') : t('survey.cesMuch');
    return '';
  }
  return '';
}

function scoreQuestion(q, min, max) {
  const current = answers.get(q.key);
  const values = [];
  for (let v = min; v <= max; v += 1) values.push(v);
  if (values.length > 11) {
    const id = `q-${q.key}`;
    return h('div', {},
      h('input', {
        id, type: 'number', min: String(min), max: String(max), step: '1', inputmode: 'numeric',
        value: typeof current === 'number' ? String(current) : '',
        'aria-describedby': `q-${q.key}-range`,
        oninput: (e) => set(q.key, e.target.value === '' ? undefined : Number(e.target.value)),
      }),
      h('p', { class: 'cust-hint', id: `q-${q.key}-range` }, t('survey.range', { min, max })));
  }
  const worded = q.kind.type === 'csat';
  return h('div', { class: `survey-scale survey-${q.kind.type} ${worded ? 'worded' : ''}`, dataset: { count: String(values.length) } },
    values.map((v) => {
      const id = `q-${q.key}-${v}`;
      const words = scoreWords(q.kind, v, min, max);
      return h('label', { class: 'survey-score', for: id },
        h('input', {
          type: 'radio', name: `q-${q.key}`, id, value: String(v), checked: current === v,
          onchange: () => set(q.key, v),
        }),
        h('span', { class: 'face' }, h('span', { class: 'n' }, num(v)), words ? h('span', { class: worded ? 'w' : 'survey-sr' }, words) : null));
    }),
    !worded && values.length > 2 ? h('div', { class: 'survey-ends', 'aria-hidden': 'true' },
      h('span', {}, scoreWords(q.kind, min, min, max)), h('span', {}, scoreWords(q.kind, max, min, max))) : null);
}

function choiceQuestion(q, multiple) {
  const current = answers.get(q.key) || [];
  return h('div', { class: 'cust-choices survey-options' },
    q.kind.options.map((o) => {
      const id = `q-${q.key}-${o.key}`;
      return h('label', { class: 'cust-choice', for: id },
        h('input', {
          type: multiple ? 'checkbox' : 'radio', name: `q-${q.key}`, id, value: o.key,
          checked: current.includes(o.key),
          onchange: (e) => {
            if (!multiple) set(q.key, [o.key]);
            else {
              const now = new Set(answers.get(q.key) || []);
              if (e.target.checked) now.add(o.key); else now.delete(o.key);
              set(q.key, q.kind.options.map((x) => x.key).filter((k) => now.has(k)));
            }
          },
        }),
        h('span', { class: 'face' }, h('span', { class: 'title' }, localized(o.label))));
    }));
}

function textQuestion(q) {
  const id = `q-${q.key}`;
  const max = q.kind.max_chars;
  const counter = h('p', { class: 'cust-hint survey-count', id: `${id}-count`, 'aria-live': 'polite' },
    t('survey.chars', { n: (answers.get(q.key) || '').length, max }));
  return h('div', {},
    h('textarea', {
      id, rows: '4', maxlength: String(max), 'aria-describedby': `${id}-count`,
      oninput: (e) => {
        counter.textContent = t('survey.chars', { n: e.target.value.length, max });
        set(q.key, e.target.value);
      },
    }, answers.get(q.key) || ''),
    counter);
}

function questionView(q, index) {
  const scale = scaleOf(q.kind);
  let body;
  if (scale) body = scoreQuestion(q, scale[0], scale[1]);
  else if (q.kind.type === 'single_choice') body = choiceQuestion(q, false);
  else if (q.kind.type === 'multiple_choice') body = choiceQuestion(q, true);
  else body = textQuestion(q);
  const labelled = q.kind.type === 'free_text' || (scale && scale[1] - scale[0] > 10);
  const prompt = [h('span', { class: 'survey-n' }, `${num(index + 1)}. `), localized(q.prompt),
    q.required ? h('span', { class: 'survey-req' }, ` (${t('survey.requiredMark')})`) : null];
  const missing = missingKey === q.key;
  if (labelled) {
    return h('div', { class: `card survey-q ${missing ? 'survey-missing' : ''}`, dataset: { question: q.key } },
      h('label', { for: `q-${q.key}`, class: 'survey-prompt' }, prompt),
      missing ? h('p', { class: 'survey-error' }, t('survey.pleaseAnswer')) : null,
      body);
  }
  return h('fieldset', {
    class: `card survey-q ${missing ? 'survey-missing' : ''}`, dataset: { question: q.key },
    'aria-invalid': missing ? 'true' : null,
  },
  h('legend', { class: 'survey-prompt' }, prompt),
  missing ? h('p', { class: 'survey-error' }, t('survey.pleaseAnswer')) : null,
  body);
}

// ---------------------------------------------------------------------------------------------
// Sending

async function send(button) {
  const shown = visibleQuestions();
  const gap = shown.find((q) => q.required && !answered(answers.get(q.key)));
  if (gap) {
    missingKey = gap.key;
    await draw();
    announce(t('survey.missing', { question: localized(gap.prompt) }), 'error');
    const first = document.querySelector(`[data-question="${CSS.escape(gap.key)}"] input, [data-question="${CSS.escape(gap.key)}"] textarea`);
    first?.focus();
    return;
  }
  const body = {
    version: doc.survey.version,
    language: language().code,
    answers: shown.filter((q) => answered(answers.get(q.key))).map((q) => {
      const v = answers.get(q.key);
      return { question: q.key, value: typeof v === 'string' ? v.trim() : v };
    }),
  };
  if (replyTo.wanted && (replyTo.phone.trim() || replyTo.email.trim())) {
    body.reply_to = { phone: replyTo.phone.trim() || null, email: replyTo.email.trim() || null, language: language().code };
  }
  await busy(button, async () => {
    try {
      await api(`/api/v1/surveys/invitations/${encodeURIComponent(token)}/response`, { method: 'POST', token: null, body });
      outcome = 'done';
    } catch (err) {
      const ends = { already_answered: 'already', invitation_expired: 'expired', survey_inactive: 'inactive' };
      if (!ends[err.code]) throw err;
      outcome = ends[err.code];
    }
    announce('');
    draw();
    document.getElementById('main')?.focus();
  }, 'survey');
}

// ---------------------------------------------------------------------------------------------

function endView() {
  const text = {
    done: ['survey.thanks', 'survey.thanksText'],
    already: ['survey.already', 'survey.alreadyText'],
    expired: ['survey.expired', 'survey.expiredText'],
    inactive: ['survey.inactive', 'survey.inactiveText'],
    missing: ['survey.missingTitle', 'survey.missingText'],
    offline: ['survey.offlineTitle', 'survey.offlineText'],
  }[outcome];
  return h('section', { class: `card cust-center survey-end survey-end-${outcome}` },
    h('p', { class: 'survey-mark', 'aria-hidden': 'true' }, outcome === 'done' || outcome === 'already' ? '✓' : 'ⓘ'),
    h('h1', {}, t(text[0])),
    h('p', {}, t(text[1])),
    outcome === 'offline' ? h('button', { type: 'button', onclick: () => { outcome = null; open(); } }, t('common.retry')) : null,
    h('p', {}, h('a', { href: '/' }, t('survey.home'))));
}

function draw() {
  if (outcome) {
    document.title = t(`survey.${outcome === 'done' ? 'thanks' : 'title'}`);
    return frame(draw, endView());
  }
  if (!doc) return frame(draw, h('h1', {}, t('survey.title')), h('p', { class: 'loading' }, t('survey.loading')));
  const title = localized(doc.survey.title) || t('survey.title');
  document.title = title;
  const shown = visibleQuestions();
  const submit = h('button', { type: 'submit', class: 'primary cust-wide survey-send' }, t('survey.send'));
  const contactField = (key, type, auto) => [
    h('label', { for: `survey-${key}` }, t(`survey.${key}`)),
    h('input', {
      id: `survey-${key}`, type, autocomplete: auto, dir: 'ltr', value: replyTo[key],
      oninput: (e) => { replyTo[key] = e.target.value; },
    })];
  return frame(draw,
    h('h1', {}, title),
    h('p', { class: 'cust-hint' }, t('survey.intro')),
    h('form', { class: 'survey-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); send(submit); } },
      shown.map(questionView),
      h('div', { class: 'card survey-reply' },
        h('label', { class: 'survey-check', for: 'survey-reply' },
          h('input', {
            type: 'checkbox', id: 'survey-reply', checked: replyTo.wanted,
            onchange: (e) => { replyTo.wanted = e.target.checked; draw(); },
          }), ' ', t('survey.contactMe')),
        replyTo.wanted ? [contactField('phone', 'tel', 'tel'), contactField('email', 'email', 'email'),
          h('p', { class: 'cust-hint' }, t('survey.contactHint'))] : null),
      submit,
      h('p', { class: 'cust-hint' }, t('survey.anonymous'))));
}
