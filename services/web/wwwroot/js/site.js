// « Copier le lien » and other small helpers; no dependency.
document.querySelectorAll('[data-copy]').forEach((button) => {
  button.addEventListener('click', async () => {
    const status = document.getElementById(button.dataset.copyStatus);
    try {
      await navigator.clipboard.writeText(button.dataset.copy);
      if (status) status.textContent = button.dataset.copied;
    } catch {
      if (status) status.textContent = button.dataset.copyFailed;
    }
  });
});
