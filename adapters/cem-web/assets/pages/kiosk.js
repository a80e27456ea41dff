// The kiosk page: being written.
import { setLanguage, chooseLanguage, render, h } from '/assets/app.js';

await setLanguage(await chooseLanguage('customer'));
render(h('p', {}, 'kiosk'));
