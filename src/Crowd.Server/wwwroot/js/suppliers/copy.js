// Copy buttons: <button data-copy="text" data-copied="Copied" data-failed="Select the link and copy it">.
// The words come from the server in the reader's language.
document.querySelectorAll('button[data-copy]').forEach((button) => {
  button.hidden = false;
  const status = button.parentElement.querySelector('[data-copy-status]');
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(button.dataset.copy);
      if (status) status.textContent = button.dataset.copied;
    } catch {
      if (status) status.textContent = button.dataset.failed;
    }
  });
});
