// Pairing a device (a kiosk or a display screen) with a branch: a manager or an
// administrator signs in on the device, chooses the branch and names the device; the page
// registers it, keeps its token and signs the manager out again. Shared by kiosk.js and
// display.js; texts come from the page's own catalogue section (`<section>.pair…`).
import {
  api, session, device, h, render, t, announce, showError, signInForm, localized, languages,
} from '/assets/app.js';

/** Shows an API error, with the page's own text for its code when the section has one. */
export function failWith(section, err) {
  const key = err && err.code ? `${section}.errors.${err.code}` : null;
  if (key && t(key) !== key) {
    console.error(err);
    announce(t(key), 'error');
  } else {
    showError(err);
  }
}

/** Runs `work` with `button` disabled (no double submissions); errors go to `onError`. */
export async function busy(button, work, onError) {
  if (button) {
    if (button.disabled) return;
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
  }
  try {
    await work();
  } catch (err) {
    onError(err);
  } finally {
    if (button) {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  }
}

const MANAGERS = ['admin', 'branch_manager'];

/**
 * Pairs this browser as a `kind` device. `section` is the catalogue section (`kiosk`,
 * `display`). `extra(branch, form)` may add fields to the form for the chosen branch and
 * returns `{ok(): bool, after(deviceAnswer)}` to finish (the display binds its screen).
 * Resolves with the device's token once paired.
 */
export function pair({ kind, section, extra }) {
  return new Promise((resolve) => {
    const fail = (err) => failWith(section, err);
    const intro = h('p', { class: 'pair-intro' }, t(`${section}.pairIntro`));
    const signIn = async (me) => {
      if (!me || !MANAGERS.includes(me.role)) {
        await session.signOut();
        announce(t(`${section}.notManager`), 'error');
        render(h('section', { class: 'pairing' }, h('h1', {}, t(`${section}.pairTitle`)), intro, signInForm(signIn)));
        return;
      }
      try {
        await chooseBranch(me);
      } catch (err) {
        fail(err);
      }
    };
    const chooseBranch = async (me) => {
      const branches = await api('/api/v1/branches');
      const list = await languages();
      const branchSelect = h('select', { id: 'pair-branch', name: 'branch', required: true },
        branches.map((b) => h('option', { value: b.id }, localized(b.name))));
      const name = h('input', { id: 'pair-name', name: 'name', required: true, value: t(`${section}.defaultName`), autocomplete: 'off' });
      const language = h('select', { id: 'pair-language', name: 'language' },
        list.map((l) => h('option', { value: l.code, lang: l.code, selected: l.code === (me.language || 'en') }, l.name)));
      const extraBox = h('div', { class: 'pair-extra' });
      let hook = null;
      const refreshExtra = async () => {
        extraBox.replaceChildren();
        hook = null;
        if (!extra) return;
        try {
          hook = await extra(branchSelect.value, { box: extraBox, name, language });
        } catch (err) {
          fail(err);
        }
      };
      branchSelect.addEventListener('change', refreshExtra);
      const submit = h('button', { type: 'submit', class: 'primary big' }, t(`${section}.pair`));
      const form = h('form', {
        class: 'card pair-form',
        onsubmit: (e) => {
          e.preventDefault();
          busy(submit, async () => {
            if (hook && !hook.ok()) return;
            const branch = branchSelect.value;
            const answer = await api(`/api/v1/branches/${encodeURIComponent(branch)}/devices`, {
              method: 'POST',
              body: { kind, name: name.value.trim(), language: language.value },
            });
            if (hook) await hook.after(answer, branch);
            device.set(kind, answer.token);
            await session.signOut();
            announce(t(`${section}.paired`), 'ok');
            resolve(answer.token);
          }, fail);
        },
      },
      h('h1', {}, t(`${section}.pairTitle`)),
      h('p', { class: 'muted' }, t(`${section}.signedInAs`, { name: me.name })),
      h('label', { for: 'pair-branch' }, t('common.branch')), branchSelect,
      extraBox,
      h('label', { for: 'pair-name' }, t(`${section}.nameLabel`)), name,
      h('label', { for: 'pair-language' }, t(`${section}.languageLabel`)), language,
      submit,
      h('button', {
        type: 'button',
        class: 'pair-cancel',
        onclick: async () => {
          await session.signOut();
          start();
        },
      }, t('common.cancel')));
      render(h('section', { class: 'pairing' }, form));
      if (!branches.length) announce(t(`${section}.noBranches`), 'error');
      await refreshExtra();
    };
    const start = () => {
      render(h('section', { class: 'pairing' }, h('h1', {}, t(`${section}.pairTitle`)), intro, signInForm(signIn)));
    };
    start();
  });
}
