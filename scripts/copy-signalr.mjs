// Copies the SignalR browser client from node_modules into wwwroot, where the recorder page loads it.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(root, 'node_modules', '@microsoft', 'signalr', 'dist', 'browser');
const to = join(root, 'src', 'Crowd.Server', 'wwwroot', 'lib', 'signalr');
mkdirSync(to, { recursive: true });
for (const file of ['signalr.min.js', 'signalr.min.js.map']) {
  copyFileSync(join(from, file), join(to, file));
}
console.log(`SignalR client copied to ${to}`);
