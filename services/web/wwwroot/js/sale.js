// « Encaisser »: one submission per form (a double click sends one sale; the server would also
// answer the same sale for the same form), and the sale page follows its sale until it ends.
document.querySelectorAll('form[data-once]').forEach((form) => {
  form.addEventListener('submit', (event) => {
    if (form.dataset.sent) {
      event.preventDefault();
      return;
    }
    form.dataset.sent = '1';
    form.querySelectorAll('[data-submit-once]').forEach((button) => { button.disabled = true; });
  });
  // Back from the sale page (page cache): the form can be used again.
  window.addEventListener('pageshow', () => {
    delete form.dataset.sent;
    form.querySelectorAll('[data-submit-once]').forEach((button) => { button.disabled = false; });
  });
});

const live = document.querySelector('[data-live]');
if (live) {
  const refresh = async () => {
    try {
      const response = await fetch(location.href, { credentials: 'same-origin', cache: 'no-store' });
      if (response.redirected || !response.ok) {
        return setTimeout(refresh, 3000);
      }
      const next = new DOMParser().parseFromString(await response.text(), 'text/html').querySelector('[data-sale-view]');
      const current = document.querySelector('[data-sale-view]');
      if (next && current) {
        current.replaceWith(document.importNode(next, true));
        if (!next.hasAttribute('data-live')) {
          return undefined; // the sale has ended: nothing more will change
        }
      }
    } catch {
      // network hiccup: try again below
    }
    return setTimeout(refresh, 1000);
  };
  setTimeout(refresh, 1000);
}
