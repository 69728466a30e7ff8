// The recording hub's connection, and the shape of what it says: records with their .NET names read in camelCase,
// errors as a stable code the page switches on plus the server's translated text, which the page only shows.
/* global signalR */

import { SAMPLE_RATE } from './capture.js';

export const connection = new signalR.HubConnectionBuilder()
  // WebSockets straight away (no negotiation round trip), so any node can take the connection: no sticky sessions.
  .withUrl('/hubs/recording', { skipNegotiation: true, transport: signalR.HttpTransportType.WebSockets })
  .withHubProtocol(new signalR.protocols.msgpack.MessagePackHubProtocol())
  .withAutomaticReconnect([0, 500, 1000, 2000, 5000, 10000])
  .configureLogging(signalR.LogLevel.Warning)
  .build();

export const isConnected = () => connection.state === signalR.HubConnectionState.Connected;

// The hub's errors read "code: translated text" (RecordingErrors), after the client's own "HubException: " prefix.
export function hubError(e) {
  const message = typeof e === 'string' ? e : (e && e.message) || String(e);
  const marker = 'HubException: ';
  const at = message.indexOf(marker);
  const body = at >= 0 ? message.slice(at + marker.length) : message;
  const coded = /^([a-z_]+): ([\s\S]*)$/.exec(body);
  return coded ? { code: coded[1], text: coded[2] } : { code: null, text: body };
}

// MessagePack carries the server's records with their .NET names (SessionId); the page reads them as sessionId.
export function camel(value) {
  if (Array.isArray(value)) return value.map(camel);
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  const out = {};
  for (const [key, v] of Object.entries(value)) out[key.charAt(0).toLowerCase() + key.slice(1)] = camel(v);
  return out;
}

export async function call(method, ...args) {
  return camel(await connection.invoke(method, ...args));
}

// Raw PCM16 bytes (little-endian, as the worklet writes them): MessagePack sends them as binary, not base64.
function audioChunk(seq, int16) {
  return { Seq: seq, Pcm: new Uint8Array(int16.buffer, int16.byteOffset, int16.byteLength), SampleRate: SAMPLE_RATE };
}

// A take's audio stream, sent from chunk fromSeq on (all of them, or what the server missed after a reconnect);
// completing it answers with the verdict.
export function openTakeStream(takeId, chunks, fromSeq) {
  const subject = new signalR.Subject();
  const result = connection.invoke('Record', takeId, subject).then(camel);
  result.catch(() => {}); // handled where it is awaited
  for (let seq = fromSeq; seq < chunks.length; seq++) subject.next(audioChunk(seq, chunks[seq]));
  return {
    result,
    send: (seq, int16) => subject.next(audioChunk(seq, int16)),
    complete: () => subject.complete(),
  };
}
