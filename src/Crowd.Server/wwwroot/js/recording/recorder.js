// The recorder page: microphone capture through the resampling worklet, audio streamed to the recording hub in
// sequence-numbered 100 ms chunks, live quality frames shown as a meter and hints, and the take's verdict.
/* global signalR */

const root = document.getElementById('recorder');
const jobId = root.dataset.jobId;
const texts = JSON.parse(document.getElementById('recorder-texts').textContent);
const $ = (id) => document.getElementById(id);
const ui = {
  prompt: $('prompt'), promptNumber: $('prompt-number'), meter: $('meter'), meterTarget: $('meter-target'),
  history: $('level-history'), hints: $('hints'), status: $('status'),
  verdict: $('verdict'), progress: $('progress'), time: $('time-worked'), earned: $('earned'),
  micCheck: $('mic-check'), record: $('record'), stop: $('stop'), listen: $('listen'), rerecord: $('rerecord'),
  submit: $('submit'), skip: $('skip'),
};

const SAMPLE_RATE = 16000;
const state = {
  phase: 'idle', // idle | ready | recording | analysing | reviewed
  micReady: false,
  view: null,
  takeId: null,
  passed: false,
  chunks: [], // Int16Array per sequence number, kept for listening back and for resuming after a reconnect
  subject: null,
  result: null,
  capture: null,
  maxLevel: -100,
  levels: [], // the take's live frames (dBFS and level code), drawn as its level history
  shownView: null,
  viewAt: 0,
};

// The hub's errors read "code: translated text"; the script switches on the code and shows the text.
function hubError(e) {
  const message = (e && e.message) || String(e);
  const marker = 'HubException: ';
  const at = message.indexOf(marker);
  const body = at >= 0 ? message.slice(at + marker.length) : message;
  const coded = /^([a-z_]+): ([\s\S]*)$/.exec(body);
  return coded ? { code: coded[1], text: coded[2] } : { code: null, text: body };
}

function errorText(e) {
  return hubError(e).text;
}

// MessagePack carries the server's records with their .NET names (SessionId); the page reads them as sessionId.
function camel(value) {
  if (Array.isArray(value)) return value.map(camel);
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  const out = {};
  for (const [key, v] of Object.entries(value)) out[key.charAt(0).toLowerCase() + key.slice(1)] = camel(v);
  return out;
}

async function call(method, ...args) {
  return camel(await connection.invoke(method, ...args));
}

function setStatus(text, kind) {
  ui.status.textContent = text;
  ui.status.className = 'notice' + (kind ? ' ' + kind : '');
}

function showTime(v) {
  // Between server answers the clock runs locally while recording; the server's figure wins at every answer.
  const extra = state.phase === 'recording' ? performance.now() - state.viewAt : 0;
  const s = Math.floor((v.activeMs + extra) / 1000);
  ui.time.textContent = `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  const digits = v.earned.currency === 'JPY' || v.earned.currency === 'KRW' ? 0 : 2;
  const minor = v.activeMs > 0 ? Math.floor(v.earned.minor * ((v.activeMs + extra) / v.activeMs)) : v.earned.minor;
  ui.earned.textContent = `${(minor / 10 ** digits).toFixed(digits)} ${v.earned.currency}`;
}

setInterval(() => { if (state.view && state.phase === 'recording') showTime(state.view); }, 1000);

function render() {
  const v = state.view;
  if (v && v !== state.shownView) {
    state.shownView = v;
    state.viewAt = performance.now();
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
  ui.progress.textContent = `${plural('progress', v.jobTakesNeeded, v.jobTakesAccepted, v.jobTakesNeeded)} · ${plural('session', v.clipsThisSession, v.clipsThisSession)}`;
  showTime(v);
}

// The server's texts come in the page's plural categories ("progress.one", "progress.other"); {0}, {1} are numbers.
const plurals = new Intl.PluralRules(document.documentElement.lang || 'en');
function plural(key, count, ...values) {
  const template = texts[`${key}.${plurals.select(count)}`] || texts[`${key}.other`];
  return values.reduce((t, v, i) => t.replaceAll(`{${i}}`, String(v)), template);
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

// level: the server's code for the frame ("good" is speech at a usable level, the only green); none between takes.
function showLevel(dbfs, level) {
  ui.meter.style.width = meterPct(dbfs) + '%';
  ui.meter.dataset.level = level || '';
  if (level) {
    const seen = new Set(ui.meter.dataset.seenLevels ? ui.meter.dataset.seenLevels.split(' ') : []);
    seen.add(level);
    ui.meter.dataset.seenLevels = [...seen].join(' ');
  }
  if (dbfs > state.maxLevel) {
    state.maxLevel = dbfs;
    ui.meter.dataset.maxLevel = dbfs.toFixed(1);
  }
}

const LEVEL_COLOURS = { good: '#2e9a4c', quiet: '#d69a2d', loud: '#c62828', no_speech: '#9aa3b5' };

// While recording the last 12 s scroll past; once the take ends the whole take is drawn, for listening back.
function drawHistory(whole) {
  const canvas = ui.history;
  const g = canvas.getContext('2d');
  g.clearRect(0, 0, canvas.width, canvas.height);
  const frames = whole ? state.levels : state.levels.slice(-120);
  const width = whole ? canvas.width / Math.max(frames.length, 1) : canvas.width / 120;
  const offset = whole ? 0 : canvas.width - frames.length * width;
  frames.forEach((f, i) => {
    const h = (meterPct(f.dbfs) / 100) * canvas.height;
    g.fillStyle = LEVEL_COLOURS[f.level] || LEVEL_COLOURS.no_speech;
    g.fillRect(offset + i * width, canvas.height - h, Math.max(width - 1, 1), h);
  });
  canvas.dataset.frames = String(state.levels.length);
}

// When each hint first showed, in ms of the take's audio, for the page's tests: {"too_noisy": 800}.
function noteFirstSeen(codes, audioMs) {
  const first = JSON.parse(ui.hints.dataset.firstMs || '{}');
  for (const c of codes) if (!(c in first)) first[c] = audioMs;
  ui.hints.dataset.firstMs = JSON.stringify(first);
}

function showHints(codes) {
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

// Raw PCM16 bytes (little-endian, as the worklet writes them): MessagePack sends them as binary, not base64.
function chunk(seq, int16) {
  return { Seq: seq, Pcm: new Uint8Array(int16.buffer, int16.byteOffset, int16.byteLength), SampleRate: SAMPLE_RATE };
}

// ---- connection ----
const connection = new signalR.HubConnectionBuilder()
  // WebSockets straight away (no negotiation round trip), so any node can take the connection: no sticky sessions.
  .withUrl('/hubs/recording', { skipNegotiation: true, transport: signalR.HttpTransportType.WebSockets })
  .withHubProtocol(new signalR.protocols.msgpack.MessagePackHubProtocol())
  .withAutomaticReconnect([0, 500, 1000, 2000, 5000, 10000])
  .configureLogging(signalR.LogLevel.Warning)
  .build();

connection.on('frame', (frame) => {
  const f = camel(frame);
  if (f.takeId !== state.takeId) return;
  // How much of the take the server has analysed (100 ms chunks), for the page and for tests that wait on it.
  const audioMs = (f.index + 1) * 100;
  root.dataset.heardMs = String(audioMs);
  showLevel(f.rmsDbfs, f.level);
  showHints(f.hints);
  noteFirstSeen(f.hints, audioMs);
  state.levels.push({ dbfs: f.rmsDbfs, level: f.level });
  drawHistory(false);
});
// The job's terms changed (or consent is missing): the server stops the work and names the consent screen.
connection.on('needsConsent', (url) => {
  if (typeof url === 'string' && url.startsWith('/Recording/')) window.location.assign(url);
});
connection.on('moved', (coded) => {
  const message = coded ? hubError({ message: coded }).text : null;
  state.phase = 'idle';
  state.view = null;
  setStatus(message || texts.moved, 'bad');
  render();
});
connection.onreconnecting(() => setStatus(texts.reconnecting, 'bad'));
connection.onreconnected(async () => {
  try {
    state.view = await call('Join', jobId, true);
    if (state.phase === 'recording' || state.phase === 'analysing') {
      if (state.view.resumableTakeId === state.takeId) {
        openStream(state.view.nextSeq); // the server kept the take: send it what it missed, then carry on
        setStatus(texts.recording);
      } else {
        await abandonTake();
        setStatus(texts.interrupted, 'bad');
      }
    } else {
      setStatus(texts.micOk);
    }
  } catch (e) {
    setStatus(errorText(e), 'bad');
  }
  render();
});

// The node holding the session stopped: the session comes back on another node with its time; the take is recorded again.
async function rejoin(e) {
  if (hubError(e).code !== 'session_interrupted') return false;
  state.subject = null;
  state.chunks = [];
  state.phase = 'ready';
  await join(true);
  setStatus(errorText(e), 'bad');
  return true;
}

async function join(takeOver) {
  try {
    state.view = await call('Join', jobId, takeOver);
    if (state.view.message) setStatus(state.view.message, 'bad');
    if (!state.view.prompt) state.view = await call('NextPrompt');
    state.phase = 'ready';
  } catch (e) {
    const { code, text } = hubError(e);
    setStatus(text, 'bad');
    if (!takeOver && code === 'open_elsewhere') {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = texts.takeOver;
      button.onclick = () => join(true);
      ui.status.append(' ', button);
    }
  }
  render();
}

// ---- microphone ----
async function openMicrophone() {
  if (state.capture) return state.capture;
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 },
  });
  const context = new AudioContext(); // the device's native rate; the worklet resamples to 16 kHz
  await context.audioWorklet.addModule('/js/recording/pcm16-worklet.js');
  const source = context.createMediaStreamSource(stream);
  const node = new AudioWorkletNode(context, 'pcm16-resampler', {
    processorOptions: { targetRate: SAMPLE_RATE, chunkSamples: SAMPLE_RATE / 10 },
  });
  const mute = context.createGain();
  mute.gain.value = 0;
  source.connect(node).connect(mute).connect(context.destination);
  node.port.onmessage = (e) => onChunk(e.data);
  const track = stream.getAudioTracks()[0];
  const s = track.getSettings();
  state.capture = {
    stream, context, node,
    settings: {
      EchoCancellation: s.echoCancellation ?? null,
      NoiseSuppression: s.noiseSuppression ?? null,
      AutoGainControl: s.autoGainControl ?? null,
      TrackSampleRate: s.sampleRate ?? null,
      ChannelCount: s.channelCount ?? null,
      ContextSampleRate: context.sampleRate,
      UserAgent: navigator.userAgent,
    },
  };
  return state.capture;
}

function localLevel(int16) {
  let sum = 0;
  for (let i = 0; i < int16.length; i++) sum += int16[i] * int16[i];
  const rms = Math.sqrt(sum / int16.length) / 32768;
  return rms > 0 ? 20 * Math.log10(rms) : -100;
}

function onChunk(int16) {
  if (state.phase === 'recording' && state.subject) {
    const seq = state.chunks.length;
    state.chunks.push(int16);
    state.subject.next(chunk(seq, int16));
  } else if (state.phase !== 'recording') {
    showLevel(localLevel(int16), null); // the meter also moves during the microphone check and between takes
  }
}

async function micCheck() {
  try {
    const capture = await openMicrophone();
    await capture.context.resume();
    state.micReady = true;
    setStatus(texts.micOk, 'good');
    call('Ping', 'mic_check').then((v) => { state.view = v; render(); }).catch(() => {});
  } catch (e) {
    setStatus(texts.micFailed.replace('{0}', errorText(e)), 'bad');
  }
  render();
}

// ---- takes ----
function openStream(fromSeq) {
  state.subject = new signalR.Subject();
  state.result = connection.invoke('Record', state.takeId, state.subject).then(camel);
  state.result.catch(() => {}); // handled where it is awaited
  for (let seq = fromSeq; seq < state.chunks.length; seq++) {
    state.subject.next(chunk(seq, state.chunks[seq]));
  }
}

async function record() {
  if (ui.record.disabled) return;
  try {
    const started = await call('StartTake');
    state.takeId = started.takeId;
    state.chunks = [];
    state.passed = false;
    state.maxLevel = -100;
    root.dataset.heardMs = '0';
    ui.verdict.hidden = true;
    ui.verdict.dataset.passed = '';
    ui.hints.dataset.seen = '';
    ui.hints.dataset.firstMs = '{}';
    ui.meter.dataset.seenLevels = '';
    state.levels = [];
    drawHistory(false);
    showHints([]);
    state.phase = 'recording';
    openStream(0);
    setStatus(texts.recording);
  } catch (e) {
    if (!(await rejoin(e))) setStatus(errorText(e), 'bad');
  }
  render();
}

async function stop() {
  if (state.phase !== 'recording') return;
  state.phase = 'analysing';
  render();
  setStatus(texts.analysing);
  state.capture.node.port.postMessage('flush');
  await new Promise((r) => setTimeout(r, 50)); // let the last partial chunk arrive
  const subject = state.subject;
  state.subject = null;
  subject.complete();
  try {
    const result = await state.result;
    if (!result) return; // the connection dropped: onreconnected resumes the take
    state.passed = result.passed;
    drawHistory(true);
    showVerdict(result);
    state.phase = 'reviewed';
  } catch (e) {
    state.phase = 'ready';
    state.chunks = [];
    if (!(await rejoin(e))) setStatus(errorText(e), 'bad');
  }
  render();
}

function showVerdict(result) {
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
  call('Ping', 'review').then((v) => { state.view = v; render(); }).catch(() => {});
}

async function abandonTake() {
  state.subject = null;
  state.chunks = [];
  state.phase = 'ready';
  try { await connection.invoke('Discard'); } catch { /* nothing to discard */ }
}

async function listen() {
  if (ui.listen.disabled) return;
  const capture = await openMicrophone();
  const total = state.chunks.reduce((n, c) => n + c.length, 0);
  const buffer = capture.context.createBuffer(1, total, SAMPLE_RATE);
  const data = buffer.getChannelData(0);
  let at = 0;
  for (const c of state.chunks) {
    for (let i = 0; i < c.length; i++) data[at++] = c[i] / 32768;
  }
  const player = capture.context.createBufferSource();
  player.buffer = buffer;
  player.connect(capture.context.destination);
  player.start();
  call('Ping', 'listen_back').then((v) => { state.view = v; render(); }).catch(() => {});
}

async function rerecord() {
  if (ui.rerecord.disabled) return;
  await abandonTake();
  await record();
}

async function submit() {
  if (ui.submit.disabled) return;
  try {
    const result = await call('Submit', state.takeId, state.capture.settings);
    state.view = await call('NextPrompt');
    state.chunks = [];
    state.takeId = null;
    state.phase = 'ready';
    ui.verdict.hidden = true;
    setStatus(texts.submitted, 'good');
    root.dataset.lastClip = result.clipId;
  } catch (e) {
    if (!(await rejoin(e))) setStatus(errorText(e), 'bad');
  }
  render();
}

async function skip() {
  if (ui.skip.disabled) return;
  try {
    state.view = await call('Skip');
    state.chunks = [];
    state.phase = 'ready';
    ui.verdict.hidden = true;
  } catch (e) {
    if (!(await rejoin(e))) setStatus(errorText(e), 'bad');
  }
  render();
}

ui.micCheck.onclick = micCheck;
ui.record.onclick = record;
ui.stop.onclick = stop;
ui.listen.onclick = listen;
ui.rerecord.onclick = rerecord;
ui.submit.onclick = submit;
ui.skip.onclick = skip;

document.addEventListener('keydown', (e) => {
  if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement || e.ctrlKey || e.metaKey || e.altKey) return;
  const key = e.key.toLowerCase();
  const actions = {
    ' ': () => (state.phase === 'recording' ? stop() : record()),
    m: micCheck,
    l: listen,
    r: rerecord,
    enter: submit,
    s: skip,
  };
  const action = actions[key];
  if (action) {
    e.preventDefault();
    action();
  }
});

connection.start().then(() => join(false)).catch((e) => setStatus(errorText(e), 'bad'));
