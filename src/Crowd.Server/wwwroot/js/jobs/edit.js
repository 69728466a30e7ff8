// The job form's live feedback: as the requester types, the server says which currency the region pays in, its floor,
// the budget and what would stop publishing. The server formats every text; this only puts them in place.

const form = document.getElementById('job-form');
const box = document.querySelector('[data-testid="publish-problems"]');
const url = new URL(window.location.href);
url.searchParams.set('handler', 'Feedback');

let timer = 0;
let sent = 0;

function show(feedback) {
  const currency = form.elements['Form.Currency'];
  if (currency && currency.value !== feedback.currency) {
    currency.value = feedback.currency;
  }
  form.querySelector('[data-feedback="floor"]').textContent = feedback.floor;
  form.querySelector('[data-feedback="budget"]').textContent = feedback.budget;
  if (!box) {
    return;
  }
  const list = box.querySelector('[data-feedback="problems"]');
  list.replaceChildren(...feedback.problems.map((p) => {
    const item = document.createElement('li');
    item.textContent = p.message;
    item.dataset.field = p.field;
    return item;
  }));
  list.hidden = feedback.problems.length === 0;
  box.querySelector('[data-feedback="ready"]').hidden = feedback.problems.length > 0;
  box.hidden = false;
}

async function ask() {
  const body = new FormData(form);
  body.delete('PromptsFile'); // a file is sent when saving, not on every key stroke
  const mine = ++sent;
  try {
    const response = await fetch(url, { method: 'POST', body, credentials: 'same-origin' });
    if (response.ok && mine === sent) {
      show(await response.json());
    }
  } catch {
    // The feedback is a help, not a gate: saving still checks everything.
  }
}

function later() {
  clearTimeout(timer);
  timer = setTimeout(ask, 250);
}

form.addEventListener('input', later);
form.addEventListener('change', later);
ask();
