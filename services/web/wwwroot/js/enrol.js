// Public enrolment: checks the fields, then the browser posts to the gateway's public route.
const form = document.getElementById('enrol');
if (form) {
  const show = (id, message) => {
    const el = document.getElementById(id);
    el.textContent = message || '';
    el.hidden = !message;
    const input = document.getElementById(id.replace('-error', ''));
    if (input && input.tagName === 'INPUT') input.setAttribute('aria-invalid', message ? 'true' : 'false');
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const d = form.dataset;
    const name = form.name.value.trim();
    const email = form.email.value.trim();
    const consent = form.consent.checked;
    show('name-error', name ? '' : d.msgName);
    show('email-error', /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) ? '' : d.msgEmail);
    show('consent-error', consent ? '' : d.msgConsent);
    show('form-error', '');
    if (!name || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || !consent) return;
    let response;
    try {
      response = await fetch(d.endpoint, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name, email }),
      });
    } catch {
      show('form-error', d.msgFailed);
      return;
    }
    const body = await response.json().catch(() => ({}));
    if (response.ok && body.cardSentByEmail) {
      // Already enrolled: the answer names nobody (anyone may type an e-mail), the card went to that address.
      const sent = document.createElement('p');
      sent.className = 'alert info';
      sent.setAttribute('role', 'status');
      sent.textContent = d.msgSent;
      form.replaceWith(sent);
    } else if (response.ok) {
      const member = body.member || {};
      localStorage.setItem('fidpass-card:' + body.memberId, JSON.stringify({ name: member.name, points: member.points, slug: d.slug }));
      location.assign('/carte/' + encodeURIComponent(d.slug) + '/' + body.memberId);
    } else if (response.status === 404) {
      show('form-error', d.msgUnknown);
    } else if (response.status === 429) {
      show('form-error', d.msgBusy);
    } else if (response.status === 400) {
      show('email-error', body.error || d.msgEmail);
    } else {
      show('form-error', d.msgFailed);
    }
  });
}
