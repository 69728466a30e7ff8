// Copies the SignalR browser client and its MessagePack hub protocol from node_modules into wwwroot, where the
// recorder page loads them.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const to = join(root, 'src', 'Crowd.Server', 'wwwroot', 'lib', 'signalr');
mkdirSync(to, { recursive: true });
const packages = [
  ['signalr', ['signalr.min.js', 'signalr.min.js.map']],
  ['signalr-protocol-msgpack', ['signalr-protocol-msgpack.min.js', 'signalr-protocol-msgpack.min.js.map']],
];
for (const [name, files] of packages) {
  const from = join(root, 'node_modules', '@microsoft', name, 'dist', 'browser');
  for (const file of files) {
    copyFileSync(join(from, file), join(to, file));
  }
}
console.log(`SignalR client and MessagePack protocol copied to ${to}`);
