// The microphone: capture through the resampling worklet into 16 kHz PCM16 chunks of 100 ms, and playing a take back.

export const SAMPLE_RATE = 16000;

let capture = null;

// Opened once per page; onChunk receives every chunk the worklet writes (an Int16Array).
export async function openMicrophone(onChunk) {
  if (capture) return capture;
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
  const s = stream.getAudioTracks()[0].getSettings();
  capture = {
    context,
    // Sends the last partial chunk now rather than when it fills.
    flush: () => node.port.postMessage('flush'),
    // What the browser actually applied, stored with each clip (the server's BrowserSettings).
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
  return capture;
}

// dBFS of a chunk, for the meter while no take is being analysed by the server.
export function localLevel(int16) {
  let sum = 0;
  for (let i = 0; i < int16.length; i++) sum += int16[i] * int16[i];
  const rms = Math.sqrt(sum / int16.length) / 32768;
  return rms > 0 ? 20 * Math.log10(rms) : -100;
}

export function playBack(context, chunks) {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const buffer = context.createBuffer(1, total, SAMPLE_RATE);
  const data = buffer.getChannelData(0);
  let at = 0;
  for (const c of chunks) {
    for (let i = 0; i < c.length; i++) data[at++] = c[i] / 32768;
  }
  const player = context.createBufferSource();
  player.buffer = buffer;
  player.connect(context.destination);
  player.start();
}
