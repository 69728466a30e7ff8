// Runs on the audio thread at the context's native rate. Mixes to mono, low-pass filters and resamples to 16 kHz
// with a windowed-sinc (Blackman) polyphase filter, converts to PCM16 and posts 100 ms chunks to the page.
// Dropping samples instead of filtering would fold everything above 8 kHz back into the speech band as aliasing.

const PHASES = 512;
const ZERO_CROSSINGS = 16;

function blackman(x) {
  // x in [-1, 1]
  const t = (x + 1) / 2;
  return 0.42 - 0.5 * Math.cos(2 * Math.PI * t) + 0.08 * Math.cos(4 * Math.PI * t);
}

class Pcm16Resampler extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const o = (options && options.processorOptions) || {};
    this.outRate = o.targetRate || 16000;
    this.chunkSamples = o.chunkSamples || 1600;
    this.inRate = sampleRate; // the AudioWorkletGlobalScope's rate: the context's native rate
    this.step = this.inRate / this.outRate; // input samples per output sample
    // Cut-off a little under the output's Nyquist (7.2 kHz for 16 kHz), as a fraction of the input rate.
    const fc = 0.45 * Math.min(this.inRate, this.outRate) / this.inRate;
    this.half = Math.ceil(ZERO_CROSSINGS / (2 * fc));
    this.taps = 2 * this.half;
    this.table = new Float32Array((PHASES + 1) * this.taps);
    for (let p = 0; p <= PHASES; p++) {
      const frac = p / PHASES;
      let sum = 0;
      for (let k = 0; k < this.taps; k++) {
        const d = (k - this.half + 1) - frac; // distance of this input sample from the output instant
        const arg = 2 * fc * d;
        const sinc = arg === 0 ? 1 : Math.sin(Math.PI * arg) / (Math.PI * arg);
        const w = Math.abs(d) >= this.half ? 0 : blackman(d / this.half);
        const h = 2 * fc * sinc * w;
        this.table[p * this.taps + k] = h;
        sum += h;
      }
      for (let k = 0; k < this.taps; k++) {
        this.table[p * this.taps + k] /= sum; // unity gain at DC for every phase
      }
    }
    this.buffer = new Float32Array(16384);
    this.length = this.half; // start with silence of the filter's half width, so the first output has history
    this.pos = this.half - 1; // fractional input index of the next output sample
    this.chunk = new Int16Array(this.chunkSamples);
    this.fill = 0;
    this.port.onmessage = (e) => { if (e.data === 'flush') this.flush(); };
  }

  append(input) {
    const frames = input[0].length;
    if (this.length + frames > this.buffer.length) {
      const bigger = new Float32Array(this.buffer.length * 2);
      bigger.set(this.buffer.subarray(0, this.length));
      this.buffer = bigger;
    }
    const channels = input.length;
    for (let i = 0; i < frames; i++) {
      let s = 0;
      for (let c = 0; c < channels; c++) s += input[c][i];
      this.buffer[this.length + i] = s / channels;
    }
    this.length += frames;
  }

  resample() {
    const taps = this.taps;
    const table = this.table;
    const buf = this.buffer;
    while (this.pos + this.half < this.length) {
      const i0 = Math.floor(this.pos);
      const phase = Math.round((this.pos - i0) * PHASES);
      const start = i0 - this.half + 1;
      const row = phase * taps;
      let acc = 0;
      for (let k = 0; k < taps; k++) acc += buf[start + k] * table[row + k];
      const v = Math.round(acc * 32768);
      this.chunk[this.fill++] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      if (this.fill === this.chunkSamples) this.post();
      this.pos += this.step;
    }
    // Keep only the history the next outputs need.
    const keepFrom = Math.max(0, Math.floor(this.pos) - this.half + 1);
    if (keepFrom > 0) {
      buf.copyWithin(0, keepFrom, this.length);
      this.length -= keepFrom;
      this.pos -= keepFrom;
    }
  }

  post() {
    const out = this.chunk.slice(0, this.fill);
    this.port.postMessage(out, [out.buffer]);
    this.fill = 0;
  }

  flush() {
    if (this.fill > 0) this.post();
  }

  process(inputs) {
    const input = inputs[0];
    if (input && input.length > 0 && input[0].length > 0) {
      this.append(input);
      this.resample();
    }
    return true;
  }
}

registerProcessor('pcm16-resampler', Pcm16Resampler);
