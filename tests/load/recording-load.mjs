// Load benchmark of the recording hub: N contributors stream 16 kHz PCM16 audio in real time (one 100 ms chunk every
// 100 ms each, with random phases), through the real @microsoft/signalr client over WebSockets. Reports the latency
// from a chunk being sent to its quality frame arriving (p50/p95/p99), the server's CPU and memory, and errors.
//
//   tests/load/recording-load.sh                       starts a Release server with its own database and runs this
//   node tests/load/recording-load.mjs --url http://127.0.0.1:5090 --pg postgresql://crowd:PW@127.0.0.1:PORT/crowd \
//        --server-pid PID --n 50,100,250,500,1000 --seconds 20
import * as signalR from '@microsoft/signalr';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) => {
  if (a.startsWith('--')) pairs.push([a.slice(2), all[i + 1]]);
  return pairs;
}, []));
const url = args.url ?? 'http://127.0.0.1:5090';
const pg = args.pg ?? process.env.CROWD_PG;
const serverPid = args['server-pid'] ? Number(args['server-pid']) : null;
const steps = (args.n ?? '50,100,250,500,1000').split(',').map(Number);
const seconds = Number(args.seconds ?? 20);
const warmupSeconds = Number(args.warmup ?? 3);
const takeChunks = Number(args['take-chunks'] ?? 100); // 10 s takes, then a new take
const password = 'correct horse battery';
const log = (...m) => console.error(...m);

// ---- audio: a few seconds of speech, as the browser would send it ----
function speechChunks() {
  const dir = mkdtempSync(join(tmpdir(), 'crowd-bench-'));
  const raw = join(dir, 'raw.wav');
  const wav = join(dir, 'speech.wav');
  execFileSync('espeak-ng', ['-w', raw, 'The quick brown fox jumps over the lazy dog. She sells sea shells by the sea shore.']);
  execFileSync('sox', [raw, '-r', '16000', '-c', '1', '-b', '16', wav, 'pad', '0.2', '0.2']);
  const file = readFileSync(wav);
  const data = file.subarray(file.indexOf('data') + 8);
  const chunks = [];
  for (let at = 0; at + 3200 <= data.length; at += 3200) chunks.push(data.subarray(at, at + 3200).toString('base64'));
  return chunks;
}

// ---- set-up: a published job, N contributors with consent, signed in ----
function psql(sql) {
  return execFileSync('psql', [pg, '-v', 'ON_ERROR_STOP=1', '-qAt', '-c', sql], { encoding: 'utf8' }).trim();
}

async function json(path, body, cookie) {
  const response = await fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response;
}

async function setUp(count) {
  const run = randomUUID().slice(0, 8);
  const templateEmail = `bench-template-${run}@example.test`;
  await json('/api/accounts/signup', { email: templateEmail, password, displayName: 'Bench', dateOfBirth: '1990-01-01', role: 'contributor' });
  const job = randomUUID();
  const org = randomUUID();
  psql(`
    INSERT INTO organisations (id, name, kind, created_at) VALUES ('${org}', 'Bench buyer', 1, now());
    INSERT INTO jobs (id, organisation_id, created_by_user_id, status, version, title, description, language, takes_per_prompt,
      clip_min_ms, clip_max_ms, min_snr_db, max_clipping_ratio, min_speech_ratio, environment_notes, hourly_rate_minor, currency, region,
      estimated_seconds_per_clip, buyer_name, purpose_speech_recognition, purpose_voice_cloning, retention_days, prompt_count, created_at, updated_at, published_at)
      SELECT '${job}', '${org}', id, 1, 1, 'Load benchmark', '', 'en', 1000, 1000, 15000, 15, 0.005, 0.2, '', 3000, 'CNY', 'CN-BJ', 20,
        'Bench buyer', true, false, 30, 20, now(), now(), now() FROM users WHERE email = '${templateEmail}';
    INSERT INTO job_versions (job_id, version, terms_json, terms_sha256, published_at) VALUES ('${job}', 1, '{}', repeat('0', 64), now());
    INSERT INTO prompts (id, job_id, ordinal, text) SELECT gen_random_uuid(), '${job}', i, 'Benchmark sentence ' || i FROM generate_series(1, 20) i;
    INSERT INTO users (id, display_name, date_of_birth, preferred_culture, created_at, user_name, normalized_user_name, email, normalized_email,
      email_confirmed, password_hash, security_stamp, concurrency_stamp, phone_number_confirmed, two_factor_enabled, lockout_enabled, access_failed_count)
      SELECT gen_random_uuid(), 'Bench ' || i, date '1990-01-01', 'en', now(), e, upper(e), e, upper(e), true, t.password_hash,
        md5(random()::text), md5(random()::text), false, false, true, 0
      FROM generate_series(1, ${count}) i, LATERAL (SELECT 'bench-' || i || '-${run}@example.test' AS e) x,
        (SELECT password_hash FROM users WHERE email = '${templateEmail}') t;
    INSERT INTO user_roles (user_id, role_id) SELECT id, '00000000-0000-0000-0000-00000000c001' FROM users WHERE email LIKE 'bench-%-${run}@example.test' AND email <> '${templateEmail}';
    INSERT INTO consent_texts (sha256, culture, body, created_at)
      VALUES (encode(sha256(convert_to('Load benchmark consent ${run}', 'UTF8')), 'hex'), 'en', 'Load benchmark consent ${run}', now());
    INSERT INTO consents (id, job_id, job_version, contributor_id, terms_sha256, given_at, voice_cloning, text_sha256, signature)
      SELECT gen_random_uuid(), '${job}', 1, id, repeat('0', 64), now(), false,
        encode(sha256(convert_to('Load benchmark consent ${run}', 'UTF8')), 'hex'), display_name
      FROM users WHERE email LIKE 'bench-%-${run}@example.test';`);
  const cookies = new Array(count);
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < count) {
      const i = next++;
      const response = await json('/api/accounts/signin', { email: `bench-${i + 1}-${run}@example.test`, password });
      cookies[i] = response.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    }
  }));
  return { job, cookies };
}

// ---- one simulated contributor ----
class Contributor {
  constructor(index, cookie, job, chunks, stats) {
    Object.assign(this, { index, cookie, job, chunks, stats });
    this.sent = new Map();
    this.seq = 0;
    this.running = false;
  }

  async start() {
    this.connection = new signalR.HubConnectionBuilder()
      .withUrl(url + '/hubs/recording', {
        skipNegotiation: true,
        transport: signalR.HttpTransportType.WebSockets,
        headers: { cookie: this.cookie },
      })
      .configureLogging(signalR.LogLevel.None)
      .build();
    this.connection.on('frame', (f) => {
      const sent = this.sent.get(f.seq);
      if (sent === undefined) return;
      this.sent.delete(f.seq);
      if (this.stats.measuring) this.stats.latencies.push(performance.now() - sent);
    });
    this.connection.onclose((e) => { if (this.running) this.stats.errors.push('closed: ' + (e?.message ?? '')); });
    await this.connection.start();
    await this.connection.invoke('Join', this.job, true);
    // 20 prompts of 1000 takes each: every prompt is recorded by many speakers at once, one take slot each.
    const view = await this.connection.invoke('NextPrompt');
    if (!view.prompt) throw new Error('no prompt: ' + view.status);
    this.running = true;
    await this.newTake();
    // A random phase, so the N contributors do not all send at the same instant.
    setTimeout(() => { this.timer = setInterval(() => this.tick(), 100); }, Math.random() * 100);
  }

  async newTake() {
    const { takeId } = await this.connection.invoke('StartTake');
    this.takeId = takeId;
    this.seq = 0;
    this.sent.clear();
    this.subject = new signalR.Subject();
    this.result = this.connection.invoke('Record', takeId, this.subject).then(
      () => this.stats.takes++,
      (e) => { if (this.running) this.stats.errors.push(String(e.message ?? e)); });
  }

  tick() {
    if (!this.subject) return;
    if (this.seq === takeChunks) {
      const subject = this.subject;
      this.subject = null;
      subject.complete();
      this.result.then(() => this.running && this.newTake()).catch((e) => this.stats.errors.push(String(e)));
      return;
    }
    const seq = this.seq++;
    this.sent.set(seq, performance.now());
    if (this.stats.measuring) this.stats.sent++;
    this.subject.next({ seq, pcm: this.chunks[(seq + this.index) % this.chunks.length], sampleRate: 16000 });
  }

  async stop() {
    this.running = false;
    clearInterval(this.timer);
    try { await this.connection.stop(); } catch { /* already closed */ }
  }
}

// ---- measurement ----
function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (100 per second)
}

function rssMb(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line.split(/\s+/)[1]) / 1024;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function runStep(n, setup, chunks) {
  const stats = { latencies: [], errors: [], takes: 0, sent: 0, measuring: false };
  const contributors = setup.cookies.slice(0, n).map((cookie, i) => new Contributor(i, cookie, setup.job, chunks, stats));
  const joinStarted = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < contributors.length) await contributors[next++].start();
  }));
  const joinMs = performance.now() - joinStarted;
  await new Promise((r) => setTimeout(r, warmupSeconds * 1000));
  stats.measuring = true;
  const cpu0 = serverPid ? cpuTicks(serverPid) : 0;
  const node0 = process.cpuUsage();
  const t0 = performance.now();
  let maxRss = 0;
  const sampler = setInterval(() => { if (serverPid) maxRss = Math.max(maxRss, rssMb(serverPid)); }, 1000);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  stats.measuring = false;
  clearInterval(sampler);
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = serverPid ? ((cpuTicks(serverPid) - cpu0) / 100 / elapsed) * 100 : NaN;
  const nodeUsage = process.cpuUsage(node0);
  const nodeCpu = ((nodeUsage.user + nodeUsage.system) / 1e6 / elapsed) * 100;
  if (serverPid) maxRss = Math.max(maxRss, rssMb(serverPid));
  await Promise.all(contributors.map((c) => c.stop()));
  const sorted = Float64Array.from(stats.latencies).sort();
  return {
    n,
    frames: sorted.length,
    // Frames for chunks sent in the window, over those chunks; the last ~100 ms of chunks have their frames still in flight.
    delivered: sorted.length / Math.max(1, stats.sent),
    chunksPerSecond: stats.sent / elapsed,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    serverCpu: cpu,
    serverRssMb: maxRss,
    clientCpu: nodeCpu,
    joinAndClaimMs: joinMs,
    errors: stats.errors.length,
    firstError: stats.errors[0],
  };
}

const chunks = speechChunks();
log(`Setting up ${Math.max(...steps)} contributors…`);
const setup = await setUp(Math.max(...steps));
log(`Measuring ${seconds} s per step after ${warmupSeconds} s of warm-up; server pid ${serverPid ?? 'unknown'}`);
console.log('| N | chunks/s sent | frames back | delivered | p50 ms | p95 ms | p99 ms | max ms | server CPU % (of 1 core) | server RSS MB | client CPU % | join+claim N (ms) | errors |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const n of steps) {
  const r = await runStep(n, setup, chunks);
  const f = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
  console.log(`| ${r.n} | ${r.chunksPerSecond.toFixed(0)} | ${r.frames} | ${(r.delivered * 100).toFixed(1)} % | ${f(r.p50)} | ${f(r.p95)} | ${f(r.p99)} | ${f(r.max)} | ${f(r.serverCpu)} | ${f(r.serverRssMb)} | ${f(r.clientCpu)} | ${f(r.joinAndClaimMs)} | ${r.errors}${r.firstError ? ' (' + r.firstError.slice(0, 80) + ')' : ''} |`);
  await new Promise((res) => setTimeout(res, 2000));
}
process.exit(0);
