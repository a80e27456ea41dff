// The landing page: a link to every page, in the visitor's language.
import { chooseLanguage, setLanguage, t, h, render, languagePicker, offlineShell } from '/assets/app.js';

async function draw() {
  document.title = t('index.title');
  const organization = document.body.dataset.organization;
  const link = (href, key) => h('li', {}, h('a', { href }, t(key)));
  render(
    h('header', { class: 'row' }, h('h1', {}, t('index.title')), await languagePicker(async (code) => {
      await setLanguage(code, 'customer');
      draw();
    })),
    h('p', { class: 'muted' }, t('index.intro')),
    h('div', { class: 'grid' },
      h('section', { class: 'card' }, h('h2', {}, t('index.customers')), h('ul', {},
        organization ? link(`/find/${organization}`, 'index.find') : null)),
      h('section', { class: 'card' }, h('h2', {}, t('index.staff')), h('ul', {},
        link('/console', 'index.console'), link('/dashboard', 'index.dashboard'), link('/admin', 'index.admin'))),
      h('section', { class: 'card' }, h('h2', {}, t('index.devices')), h('ul', {},
        link('/kiosk', 'index.kiosk'), link('/display', 'index.display')))),
  );
}

await setLanguage(await chooseLanguage('customer'));
offlineShell();
draw();
