// The main menu on a narrow screen: folded behind one button. Without this script the menu simply stays open.
const header = document.querySelector('header.top');
const button = document.getElementById('menu-button');
if (header && button) {
  header.classList.add('menu-ready');
  button.addEventListener('click', () => {
    const open = header.classList.toggle('menu-open');
    button.setAttribute('aria-expanded', String(open));
  });
}
