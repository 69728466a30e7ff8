// Copies the browser libraries the pages load from node_modules into wwwroot/lib: the SignalR client (recorder, job
// dashboard) with its MessagePack hub protocol (recorder) and Chart.js (job dashboard charts).
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lib = join(root, 'src', 'Crowd.Server', 'wwwroot', 'lib');
const libraries = [
  ['signalr', join('@microsoft', 'signalr', 'dist', 'browser'), ['signalr.min.js', 'signalr.min.js.map']],
  ['signalr', join('@microsoft', 'signalr-protocol-msgpack', 'dist', 'browser'), ['signalr-protocol-msgpack.min.js', 'signalr-protocol-msgpack.min.js.map']],
  ['chart.js', join('chart.js', 'dist'), ['chart.umd.min.js', 'chart.umd.min.js.map']],
];
for (const [name, from, files] of libraries) {
  mkdirSync(join(lib, name), { recursive: true });
  for (const file of files) {
    copyFileSync(join(root, 'node_modules', from, file), join(lib, name, file));
  }
}
console.log(`Browser libraries copied to ${lib}: ${[...new Set(libraries.map(([name]) => name))].join(', ')}`);
