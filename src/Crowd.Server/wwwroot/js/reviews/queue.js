// The review queue by keyboard: J/K (or the arrows) move between clips, P plays, A accepts, a number key opens the reject
// form with that reason and its explanation filled in (Enter sends, Escape cancels), Shift+A accepts every clip played
// that passed the analyzer. Decisions go to the reviews API, so the page stays where the reviewer is.

const queue = document.querySelector('[data-testid="queue"]');
const texts = JSON.parse(document.getElementById('queue-texts').textContent);
const rows = () => [...queue.querySelectorAll('[data-testid="queue-clip"]')];
const open = () => rows().filter((row) => !row.dataset.state);
let current = null;

function audioOf(row) {
  return row.querySelector('audio');
}

function select(row) {
  if (current && current !== row) {
    audioOf(current).pause();
    current.classList.remove('current');
    current.removeAttribute('aria-current');
  }
  current = row;
  if (row) {
    row.classList.add('current');
    row.setAttribute('aria-current', 'true');
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: 'nearest' });
  }
}

function move(step) {
  const all = rows();
  const at = current ? all.indexOf(current) : -1;
  for (let i = at + step; i >= 0 && i < all.length; i += step) {
    if (!all[i].dataset.state) {
      select(all[i]);
      return;
    }
  }
}

function togglePlay(row) {
  const audio = audioOf(row);
  if (audio.paused) {
    audio.play().catch(() => {});
  } else {
    audio.pause();
  }
}

function settle(row, state) {
  audioOf(row).pause();
  row.dataset.state = state;
  row.querySelector('[data-testid="row-state"]').textContent = texts[state];
  row.querySelector('.reject-details').open = false;
  for (const control of row.querySelectorAll('button, select, textarea, summary')) {
    control.setAttribute('disabled', '');
    control.tabIndex = -1;
  }
  const next = open().find((r) => rows().indexOf(r) > rows().indexOf(row)) ?? open()[0] ?? null;
  select(next);
  if (!next) {
    document.querySelector('[data-testid="queue-done"]').hidden = false;
  }
}

async function problemText(response) {
  try {
    const problem = await response.json();
    const details = problem.errors ? Object.values(problem.errors).flat() : [];
    return [problem.detail, ...details].filter(Boolean).join(' ') || problem.title || texts.failed;
  } catch {
    return texts.failed;
  }
}

async function decide(row, action, body) {
  const id = row.dataset.clipId;
  row.dataset.busy = 'true';
  try {
    const response = await fetch(`/api/reviews/clips/${id}/${action}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body ?? {}),
      credentials: 'same-origin',
    });
    if (response.ok) {
      settle(row, action === 'accept' ? 'accepted' : 'rejected');
    } else {
      row.querySelector('[data-testid="row-state"]').textContent = await problemText(response);
    }
  } catch {
    row.querySelector('[data-testid="row-state"]').textContent = texts.failed;
  } finally {
    delete row.dataset.busy;
  }
}

function openReject(row, key) {
  const details = row.querySelector('.reject-details');
  details.open = true;
  const reason = row.querySelector('select[name="Reason"]');
  const note = row.querySelector('textarea[name="Note"]');
  const option = [...reason.options].find((o) => o.dataset.key === key);
  if (option) {
    reason.value = option.value;
    note.value = option.dataset.note;
  }
  note.focus();
  note.select();
}

function sendReject(row) {
  const reason = row.querySelector('select[name="Reason"]').value;
  const note = row.querySelector('textarea[name="Note"]').value;
  decide(row, 'reject', { reason, note });
}

for (const row of rows()) {
  const audio = audioOf(row);
  const play = row.querySelector('[data-testid="play"]');
  audio.controls = false;
  audio.hidden = true;
  play.hidden = false;
  play.addEventListener('click', () => {
    select(row);
    togglePlay(row);
  });
  audio.addEventListener('playing', () => {
    row.dataset.played = 'true';
    play.textContent = '❚❚';
    play.setAttribute('aria-label', texts.pause);
  });
  audio.addEventListener('pause', () => {
    play.textContent = '▶';
    play.setAttribute('aria-label', texts.play);
  });
  row.addEventListener('focusin', () => {
    if (current !== row && !row.dataset.state) {
      select(row);
    }
  });
  row.querySelector('form[data-action="accept"]').addEventListener('submit', (e) => {
    e.preventDefault();
    decide(row, 'accept');
  });
  row.querySelector('form[data-action="reject"]').addEventListener('submit', (e) => {
    e.preventDefault();
    sendReject(row);
  });
}

document.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || !current) {
    return;
  }
  const field = e.target.closest('input, select, textarea');
  if (field) {
    if (field.name === 'Note' && e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      sendReject(field.closest('[data-testid="queue-clip"]'));
    } else if (e.key === 'Escape') {
      const row = field.closest('[data-testid="queue-clip"]');
      if (row) {
        row.querySelector('.reject-details').open = false;
        select(row);
      }
    }
    return;
  }
  if (current.dataset.busy) {
    return;
  }
  const key = e.key;
  if (key === 'j' || key === 'ArrowDown') {
    move(1);
  } else if (key === 'k' || key === 'ArrowUp') {
    move(-1);
  } else if (key === 'p') {
    togglePlay(current);
  } else if (key === 'a') {
    decide(current, 'accept');
  } else if (key === 'A') {
    document.querySelector('[data-testid="accept-played-form"]').requestSubmit();
  } else if (/^[1-9]$/.test(key)) {
    openReject(current, key);
  } else {
    return;
  }
  e.preventDefault();
});

select(open()[0] ?? null);
