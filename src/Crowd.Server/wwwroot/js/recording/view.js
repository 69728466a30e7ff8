// What the recorder page shows: buttons for the phase, the prompt, progress, time and earnings, the level meter and
// its history, live hints and the verdict. Every text comes from the server, in the page's language.

const $ = (id) => document.getElementById(id);
export const ui = {
  prompt: $('prompt'), promptNumber: $('prompt-number'), meter: $('meter'), meterTarget: $('meter-target'),
  history: $('level-history'), hints: $('hints'), status: $('status'),
  verdict: $('verdict'), progress: $('progress'), time: $('time-worked'), earned: $('earned'),
  micCheck: $('mic-check'), record: $('record'), stop: $('stop'), listen: $('listen'), rerecord: $('rerecord'),
  submit: $('submit'), skip: $('skip'),
};

export const texts = JSON.parse($('recorder-texts').textContent);

export function setStatus(text, kind) {
  ui.status.textContent = text;
  ui.status.className = 'notice' + (kind ? ' ' + kind : '');
}

// The session view on screen and when it arrived, from which time and earnings run on while recording.
let shown = null;
let shownAt = 0;

export function render(state) {
  const v = state.view;
  if (v && v !== shown) {
    shown = v;
    shownAt = performance.now();
  }
  const p = state.phase;
  ui.record.disabled = !(state.micReady && v && v.prompt && (p === 'ready' || p === 'reviewed'));
  ui.stop.disabled = p !== 'recording';
  ui.listen.disabled = !(p === 'reviewed' && state.chunks.length > 0);
  ui.rerecord.disabled = p !== 'reviewed';
  ui.submit.disabled = !(p === 'reviewed' && state.passed);
  ui.skip.disabled = !(v && v.prompt) || p === 'recording' || p === 'analysing';
  ui.micCheck.disabled = p === 'recording' || p === 'analysing';
  if (!v) return;
  if (v.prompt) {
    ui.prompt.textContent = v.prompt.text;
    ui.promptNumber.textContent = '#' + v.prompt.ordinal;
  } else {
    ui.prompt.textContent = v.message || texts.noPrompt;
    ui.promptNumber.textContent = '';
  }
  ui.progress.textContent = v.progress;
  showTime(state);
}

// Between server answers the clock and the earnings run on locally while recording; the server's figures win at every answer.
export function showTime(state) {
  const v = state.view;
  const extra = state.phase === 'recording' ? performance.now() - shownAt : 0;
  const s = Math.floor((v.activeMs + extra) / 1000);
  ui.time.textContent = `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  ui.earned.textContent = extra > 0 && v.activeMs > 0 ? runningOn(v.earned, (v.activeMs + extra) / v.activeMs) : v.earned.text;
}

// The server's figure scaled by the time since, written as the server writes money (Currencies.Format: the amount with
// the currency's digits, grouped, then the currency's code).
function runningOn(earned, factor) {
  const digits = earned.digits;
  const amount = new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return `${amount.format(Math.floor(earned.minor * factor) / 10 ** digits)} ${earned.currency}`;
}

// The meter runs from -60 to 0 dBFS; its target range is the job's quality bar, sent with the page.
const METER_FLOOR_DBFS = -60;
const meterPct = (dbfs) => Math.max(0, Math.min(100, ((dbfs - METER_FLOOR_DBFS) / -METER_FLOOR_DBFS) * 100));
{
  const meter = ui.meterTarget.parentElement;
  const low = meterPct(Number(meter.dataset.targetLow));
  ui.meterTarget.style.left = low + '%';
  ui.meterTarget.style.width = (meterPct(Number(meter.dataset.targetHigh)) - low) + '%';
}

let maxLevel = -100;

// level: the server's code for the frame ("good" is speech at a usable level, the only green); none between takes.
export function showLevel(dbfs, level) {
  ui.meter.style.width = meterPct(dbfs) + '%';
  ui.meter.dataset.level = level || '';
  if (level) {
    const seen = new Set(ui.meter.dataset.seenLevels ? ui.meter.dataset.seenLevels.split(' ') : []);
    seen.add(level);
    ui.meter.dataset.seenLevels = [...seen].join(' ');
  }
  if (dbfs > maxLevel) {
    maxLevel = dbfs;
    ui.meter.dataset.maxLevel = dbfs.toFixed(1);
  }
}

const LEVEL_COLOURS = { good: '#2e9a4c', quiet: '#d69a2d', loud: '#c62828', no_speech: '#9aa3b5' };

// levels: the take's live frames (dBFS and level code). While recording the last 12 s scroll past; once the take
// ends the whole take is drawn, for listening back.
export function drawHistory(levels, whole) {
  const canvas = ui.history;
  const g = canvas.getContext('2d');
  g.clearRect(0, 0, canvas.width, canvas.height);
  const frames = whole ? levels : levels.slice(-120);
  const width = whole ? canvas.width / Math.max(frames.length, 1) : canvas.width / 120;
  const offset = whole ? 0 : canvas.width - frames.length * width;
  frames.forEach((f, i) => {
    const h = (meterPct(f.dbfs) / 100) * canvas.height;
    g.fillStyle = LEVEL_COLOURS[f.level] || LEVEL_COLOURS.no_speech;
    g.fillRect(offset + i * width, canvas.height - h, Math.max(width - 1, 1), h);
  });
  canvas.dataset.frames = String(levels.length);
}

// When each hint first showed, in ms of the take's audio, for the page's tests: {"too_noisy": 800}.
export function noteFirstSeen(codes, audioMs) {
  const first = JSON.parse(ui.hints.dataset.firstMs || '{}');
  for (const c of codes) if (!(c in first)) first[c] = audioMs;
  ui.hints.dataset.firstMs = JSON.stringify(first);
}

export function showHints(codes) {
  ui.hints.replaceChildren(...codes.map((c) => {
    const li = document.createElement('li');
    li.textContent = texts[c] || c;
    li.dataset.code = c;
    return li;
  }));
  const seen = new Set(ui.hints.dataset.seen ? ui.hints.dataset.seen.split(' ') : []);
  codes.forEach((c) => seen.add(c));
  ui.hints.dataset.seen = [...seen].join(' ');
}

// A new take: the meter, hints, history and verdict start over.
export function clearTake() {
  maxLevel = -100;
  ui.verdict.hidden = true;
  ui.verdict.dataset.passed = '';
  ui.hints.dataset.seen = '';
  ui.hints.dataset.firstMs = '{}';
  ui.meter.dataset.seenLevels = '';
  drawHistory([], false);
  showHints([]);
}

export function showVerdict(result) {
  ui.verdict.hidden = false;
  ui.verdict.dataset.passed = String(result.passed);
  ui.verdict.dataset.reasons = result.reasons.map((r) => r.code).join(' ');
  ui.verdict.className = 'notice ' + (result.passed ? 'good' : 'bad');
  const m = result.metrics;
  const list = document.createElement('ul');
  for (const r of result.reasons) {
    const li = document.createElement('li');
    li.textContent = r.hint;
    li.dataset.code = r.code;
    list.append(li);
  }
  const metrics = document.createElement('p');
  metrics.className = 'muted small';
  metrics.textContent = `${m.durationSeconds.toFixed(1)} s · ${m.speechLevelDbfs.toFixed(0)} dBFS · SNR ${m.snrDb.toFixed(0)} dB`;
  ui.verdict.replaceChildren(document.createTextNode(result.passed ? texts.passed : texts.failed), list, metrics);
  setStatus(result.passed ? texts.passedStatus : texts.failedStatus, result.passed ? 'good' : 'bad');
}
