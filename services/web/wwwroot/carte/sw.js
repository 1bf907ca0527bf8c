// The card pages' service worker (scope /carte/): the network first, so a card opened online is
// always fresh; without a network, the copy the card page saved (see card.js). Live balances
// (the gateway's API) are never cached here: the page shows the last one it saved itself.
const CACHE = 'fidpass-card-v1';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  const page = request.mode === 'navigate' && url.origin === self.location.origin && url.pathname.startsWith('/carte/');
  const file = request.method === 'GET' && (request.destination === 'image' || request.destination === 'script'
    || request.destination === 'style' || request.destination === 'manifest');
  if (!page && !file) {
    return;
  }
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const response = await fetch(request);
      if (response.ok || response.type === 'opaque') {
        await cache.put(page ? url.pathname : request, response.clone());
      }
      return response;
    } catch (error) {
      const copy = await cache.match(page ? url.pathname : request, { ignoreSearch: page });
      if (copy) {
        return copy;
      }
      throw error;
    }
  })());
});
