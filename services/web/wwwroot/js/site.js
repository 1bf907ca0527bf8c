// « Copier le lien », « Copier la clé » and other small helpers; no dependency.
// Without the clipboard API (an old browser, a page not served over HTTPS) the text is selected on
// the page and copied the old way; if even that is refused, the merchant is told to press Ctrl+C.
function selectText(id) {
  const source = id && document.getElementById(id);
  if (!source) return false;
  const range = document.createRange();
  range.selectNodeContents(source);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  }
}

document.querySelectorAll('[data-copy]').forEach((button) => {
  button.addEventListener('click', async () => {
    const status = document.getElementById(button.dataset.copyStatus);
    let copied = false;
    if (navigator.clipboard && navigator.clipboard.writeText) {
      try {
        await navigator.clipboard.writeText(button.dataset.copy);
        copied = true;
      } catch {
        copied = false;
      }
    }
    if (!copied) copied = selectText(button.dataset.copySource);
    if (status) status.textContent = copied ? button.dataset.copied : button.dataset.copyFailed;
  });
});
