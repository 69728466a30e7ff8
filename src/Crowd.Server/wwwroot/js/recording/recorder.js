// The recorder page: microphone capture through the resampling worklet, audio streamed to the recording hub in
// sequence-numbered 100 ms chunks, live quality frames shown as a meter and hints, and the take's verdict.

import { call, camel, connection, hubError, isConnected, openTakeStream } from './connection.js';
import { localLevel, openMicrophone, playBack } from './capture.js';
import {
  clearTake, drawHistory, noteFirstSeen, render as show, setStatus, showHints, showLevel, showTime, showVerdict, texts, ui,
} from './view.js';

const root = document.getElementById('recorder');
const jobId = root.dataset.jobId;
const state = {
  phase: 'idle', // idle | ready | recording | analysing | reviewed
  micReady: false,
  view: null,
  takeId: null,
  passed: false,
  chunks: [], // Int16Array per sequence number, kept for listening back and for resuming after a reconnect
  stream: null, // the take's audio on its way to the hub
  result: null,
  capture: null,
  levels: [], // the take's live frames (dBFS and level code), drawn as its level history
};

const render = () => show(state);
const errorText = (e) => hubError(e).text;

setInterval(() => { if (state.view && state.phase === 'recording') showTime(state); }, 1000);

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
  drawHistory(state.levels, false);
});
// The job's terms changed (or consent is missing): the server stops the work and names the consent screen.
connection.on('needsConsent', (url) => {
  if (typeof url === 'string' && url.startsWith('/Recording/')) window.location.assign(url);
});
// Another tab took the session over; the server says so in the page's language.
connection.on('moved', (coded) => {
  state.phase = 'idle';
  state.view = null;
  setStatus(errorText(coded), 'bad');
  render();
});
// After a reconnect the page takes its session back; a take in progress goes on from what the server has of it.
async function resume() {
  try {
    state.view = await call('Join', jobId, true);
    if (state.phase === 'recording' || state.phase === 'analysing') {
      if (state.view.resumableTakeId === state.takeId) {
        state.result = openStream(state.view.nextSeq); // the server kept the take: send it what it missed, then carry on
        if (state.phase === 'analysing') {
          setStatus(texts.analysing);
          await verdict();
          return;
        }
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
}
connection.onreconnecting(() => setStatus(texts.reconnecting, 'bad'));
connection.onreconnected(resume);
// The client's own retries ran out, or the server ended the connection without offering one: keep trying, then resume.
connection.onclose(async (error) => {
  if (!error) return;
  setStatus(texts.reconnecting, 'bad');
  for (;;) {
    await new Promise((r) => setTimeout(r, 5000));
    try {
      await connection.start();
      break;
    } catch {
      // still unreachable
    }
  }
  await resume();
});

// The node holding the session stopped: the session comes back on another node with its time; the take is recorded again.
async function rejoin(e) {
  if (hubError(e).code !== 'session_interrupted') return false;
  state.stream = null;
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

function onChunk(int16) {
  if (state.phase === 'recording' && state.stream) {
    const seq = state.chunks.length;
    state.chunks.push(int16);
    state.stream.send(seq, int16);
  } else if (state.phase !== 'recording') {
    showLevel(localLevel(int16), null); // the meter also moves during the microphone check and between takes
  }
}

async function micCheck() {
  try {
    state.capture = await openMicrophone(onChunk);
    await state.capture.context.resume();
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
  state.stream = openTakeStream(state.takeId, state.chunks, fromSeq);
  return state.stream.result;
}

async function record() {
  if (ui.record.disabled) return;
  try {
    const started = await call('StartTake');
    state.takeId = started.takeId;
    state.chunks = [];
    state.passed = false;
    root.dataset.heardMs = '0';
    state.levels = [];
    clearTake();
    state.phase = 'recording';
    state.result = openStream(0);
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
  state.capture.flush();
  await new Promise((r) => setTimeout(r, 50)); // let the last partial chunk arrive
  await verdict();
}

// Ends the take's stream and shows the server's verdict on it.
async function verdict() {
  const stream = state.stream;
  state.stream = null;
  stream.complete();
  try {
    const result = await state.result;
    if (!result) return; // the take ended elsewhere (a take-over), which the page has been told about
    state.passed = result.passed;
    drawHistory(state.levels, true);
    showVerdict(result);
    call('Ping', 'review').then((v) => { state.view = v; render(); }).catch(() => {});
    state.phase = 'reviewed';
  } catch (e) {
    if (!isConnected()) return; // dropped: resume sends the rest and asks again
    state.phase = 'ready';
    state.chunks = [];
    if (!(await rejoin(e))) setStatus(errorText(e), 'bad');
  }
  render();
}

async function abandonTake() {
  state.stream = null;
  state.chunks = [];
  state.phase = 'ready';
  try { await connection.invoke('Discard'); } catch { /* nothing to discard */ }
}

async function listen() {
  if (ui.listen.disabled) return;
  const capture = await openMicrophone(onChunk);
  playBack(capture.context, state.chunks);
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
