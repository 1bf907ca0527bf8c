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
  if (card.merchant) {
    document.querySelector('[data-card-merchant]').textContent = card.merchant;
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
    const card = { name: saved?.name || body.member.firstName, merchant: body.merchant.name || '', points: body.member.points, nextExpiry: body.member.nextExpiry ?? null };
    show(card);
    localStorage.setItem(storageKey, JSON.stringify({ ...(saved || {}), ...card }));
    document.querySelector('[data-card-stale]').hidden = true;
  } catch {
    document.querySelector('[data-card-stale]').hidden = !saved;
  }
}

refresh();
