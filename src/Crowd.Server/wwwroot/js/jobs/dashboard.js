// The job dashboard: draws each chart from the text table beside it, and keeps every figure, table and chart current
// from the dashboard hub's "figures" messages. The server formats every text; this only puts them in place.
/* global signalR, Chart */

const root = document.getElementById('dashboard');
const jobId = root.dataset.jobId;
const texts = JSON.parse(document.getElementById('dashboard-texts').textContent);
const status = root.querySelector('[data-testid="live-status"]');
const charts = new Map();

function pointsOf(table) {
  return [...table.tBodies[0].rows].map((row) => ({
    label: row.cells[0].textContent,
    value: row.dataset.value === '' ? null : Number(row.dataset.value),
  }));
}

function draw(figure) {
  const points = pointsOf(figure.querySelector('table'));
  figure.querySelector('.chart-empty').hidden = points.length > 0;
  const existing = charts.get(figure.dataset.chart);
  if (existing) {
    existing.data.labels = points.map((p) => p.label);
    existing.data.datasets[0].data = points.map((p) => p.value);
    existing.update();
    return;
  }
  const line = figure.dataset.kind === 'line';
  charts.set(figure.dataset.chart, new Chart(figure.querySelector('canvas'), {
    type: line ? 'line' : 'bar',
    data: {
      labels: points.map((p) => p.label),
      datasets: [{ data: points.map((p) => p.value), backgroundColor: '#2457d6', borderColor: '#2457d6', spanGaps: true }],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      plugins: { legend: { display: false } },
      scales: { y: line ? { beginAtZero: true, max: 100 } : { beginAtZero: true, ticks: { precision: 0 } } },
    },
  }));
}

function row(point, value) {
  const tr = document.createElement('tr');
  const th = document.createElement('th');
  th.scope = 'row';
  th.textContent = point.label;
  const td = document.createElement('td');
  td.textContent = point.text;
  tr.append(th, td);
  if (value) {
    tr.dataset.value = point.value === null ? '' : String(point.value);
  }
  return tr;
}

function show(view) {
  for (const [key, text] of Object.entries(view.texts)) {
    for (const element of root.querySelectorAll(`[data-figure="${key}"]`)) {
      element.textContent = text;
    }
  }
  for (const [key, bar] of Object.entries(view.bars)) {
    const element = root.querySelector(`[data-bar="${key}"]`);
    if (element) {
      element.max = bar.max;
      element.value = bar.value;
    }
  }
  root.querySelector('[data-testid="job-state"]').className = `tag state-${view.state}`;
  root.querySelector('[data-groups]').replaceChildren(...view.speakerGroups.map((g) => row(g, false)));
  for (const chart of view.charts) {
    const figure = root.querySelector(`[data-chart="${chart.id}"]`);
    if (figure) {
      figure.querySelector('table').tBodies[0].replaceChildren(...chart.points.map((p) => row(p, true)));
      draw(figure);
    }
  }
}

function setStatus(key) {
  status.textContent = texts[key];
  status.dataset.state = key;
}

for (const figure of root.querySelectorAll('[data-chart]')) {
  draw(figure);
}

// Retries for as long as the page is open: a node restarting or a network change must not end the live view.
const connection = new signalR.HubConnectionBuilder()
  .withUrl('/hubs/jobs')
  .withAutomaticReconnect({ nextRetryDelayInMilliseconds: (ctx) => Math.min(10000, 1000 * (ctx.previousRetryCount + 1)) })
  .build();
connection.on('figures', show);

async function watch() {
  try {
    show(await connection.invoke('Watch', jobId));
    setStatus('live');
  } catch {
    setStatus('refused');
  }
}

connection.onreconnecting(() => setStatus('reconnecting'));
// A reconnected connection is a new one: it has left the job's group, so it asks again.
connection.onreconnected(watch);
connection.onclose(() => setStatus('stopped'));

connection.start().then(watch, () => setStatus('stopped'));
