// The offline shell: pages and assets are answered from the network when it is there (and
// kept), from the copy kept when it is not. API answers are never kept: live data comes live
// (the ticket tracker keeps its ticket's last state on the phone itself).
const CACHE = 'cem-shell-v2';

// What a customer's phone needs to show its ticket without a network, kept at install.
const PRECACHE = [
  '/assets/app.js', '/assets/app.css', '/assets/languages.json', '/assets/icon.svg',
  '/assets/i18n/en.json', '/assets/i18n/fa.json',
  '/assets/pages/customer-common.js', '/assets/pages/customer-common.css',
  '/assets/pages/track.js', '/assets/pages/track.css',
];

self.addEventListener('install', (event) => {
  // One missing file must not keep the worker from installing.
  event.waitUntil(caches.open(CACHE)
    .then((c) => Promise.all(PRECACHE.map((path) => c.add(new Request(path, { cache: 'no-cache' })).catch(() => {}))))
    .then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname === '/health' || url.pathname === '/metrics') return;
  event.respondWith(fetch(event.request).then((res) => {
    if (res.ok) {
      const copy = res.clone();
      caches.open(CACHE).then((c) => c.put(event.request, copy));
    }
    return res;
  }).catch(() => caches.match(event.request, { ignoreSearch: url.pathname !== '/qr.svg' })
    .then((hit) => hit || offlinePage(event.request))
    .then((hit) => hit || new Response('offline', { status: 503, headers: { 'Content-Type': 'text/plain' } }))));
});

// A page never opened on this phone, asked for offline: every page is the same shell naming
// its module, so another kept page of the same kind serves (its module reads the path).
async function offlinePage(request) {
  if (request.mode !== 'navigate') return null;
  const kind = new URL(request.url).pathname.split('/')[1];
  if (!kind) return null;
  const cache = await caches.open(CACHE);
  for (const kept of await cache.keys()) {
    const path = new URL(kept.url).pathname;
    if (path.split('/')[1] === kind && path.split('/').length === new URL(request.url).pathname.split('/').length) {
      return cache.match(kept);
    }
  }
  return null;
}

// A notification tapped: back to the page that raised it (the ticket tracker).
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((list) => {
    const open = list.find((c) => 'focus' in c);
    return open ? open.focus() : self.clients.openWindow('/');
  }));
});
