// The member's card: the QR alone is the card. Name and balance come live from the gateway's public
// card route; until it answers (or offline), the ones last seen on this phone (saved at enrolment).
const script = document.currentScript;
const member = script?.dataset.member;
const endpoint = script?.dataset.endpoint;
const storageKey = 'fidpass-card:' + member;

function show(card) {
  if (card.name) {
    document.querySelector('[data-card-name]').textContent = card.name;
  }
  if (card.shortCode) {
    document.querySelector('[data-card-code]').textContent = card.shortCode;
  }
  if (Number.isInteger(card.points)) {
    document.querySelector('[data-card-balance]').textContent = String(card.points);
    document.querySelector('[data-card-points]').hidden = false;
  }
  const expiry = document.querySelector('[data-card-expiry]');
  if (expiry && 'nextExpiry' in card) {
    const next = card.nextExpiry;
    expiry.hidden = !next;
    if (next) {
      const day = new Date(next.on + 'T12:00:00').toLocaleDateString('fr-FR');
      expiry.textContent = expiry.dataset.template.replace('{0}', String(next.points)).replace('{1}', day);
    }
  }
}

const saved = member && JSON.parse(localStorage.getItem(storageKey) || 'null');
if (saved) {
  show(saved);
}

function showStale() {
  const stale = document.querySelector('[data-card-stale]');
  stale.hidden = !saved;
  if (saved?.savedAt) {
    const when = new Date(saved.savedAt).toLocaleString('fr-FR', { timeZone: 'Europe/Paris', dateStyle: 'short', timeStyle: 'short' });
    stale.textContent = stale.dataset.template.replace('{0}', when);
  }
}

async function refresh() {
  if (!member || !endpoint) {
    return;
  }
  try {
    const response = await fetch(endpoint, { headers: { Accept: 'application/json' }, credentials: 'omit', cache: 'no-store' });
    if (!response.ok) {
      throw new Error(String(response.status));
    }
    const body = await response.json();
    // The name typed at enrolment on this phone stays; the route only gives the first name.
    const card = {
      name: saved?.name || body.member.firstName, points: body.member.points, nextExpiry: body.member.nextExpiry ?? null,
      shortCode: body.member.shortCode || saved?.shortCode || '', savedAt: new Date().toISOString(),
    };
    show(card);
    localStorage.setItem(storageKey, JSON.stringify({ ...(saved || {}), ...card }));
    document.querySelector('[data-card-stale]').hidden = true;
  } catch {
    showStale();
  }
}

// Once opened, the card opens again without a network: the service worker (scope /carte/) answers
// from the copy of this page and its files kept here, refreshed at each visit online.
async function keepForOffline() {
  if (!('serviceWorker' in navigator) || !('caches' in window)) {
    return;
  }
  try {
    await navigator.serviceWorker.register('/carte/sw.js', { scope: '/carte/' });
    await navigator.serviceWorker.ready;
    const cache = await caches.open('fidpass-card-v1');
    const files = [
      ...[...document.querySelectorAll('link[rel=stylesheet], link[rel=manifest], link[rel=icon]')].map((l) => l.href),
      ...[...document.querySelectorAll('script[src]')].map((s) => s.src),
    ];
    // The first visit is not yet served by the worker (later ones are, and it refreshes the copies): keep what is missing.
    const missing = async (url) => !(await cache.match(url));
    await Promise.all(files.map(async (url) => (await missing(url)) && cache.add(url).catch(() => undefined)));
    await Promise.all([...document.querySelectorAll('img[src]')].map(async (img) => {
      try {
        if (await missing(img.src)) {
          await cache.put(img.src, await fetch(img.src, { mode: 'no-cors', credentials: 'omit' }));
        }
      } catch {
        // The card works without its logo.
      }
    }));
    if (await missing(location.pathname)) {
      await cache.put(location.pathname, await fetch(location.pathname, { credentials: 'same-origin' }));
    }
    document.documentElement.dataset.offlineReady = 'true';
  } catch {
    // Offline use is a comfort: the card itself works without it.
  }
}

refresh();
keepForOffline();
