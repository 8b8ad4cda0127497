// @ts-check
// Where the bytes of an idle stream go: starts wallcast (memory store) in
// this process, opens N idle streams from raw sockets, and prints the heap
// per stream and the retained-size growth by constructor, from two heap
// snapshots (before and after the streams). Loopback only, stops by itself.
//
//   node --expose-gc bench/stream-heap.mjs [streams=2000]

import { fork } from 'node:child_process';
import { readFileSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';

if (process.argv[2] === '--clients') runClients(Number(process.argv[3]));
else await measure(Number(process.argv[2] ?? 2000));

/**
 * The child: opens streams on request, holds them until killed.
 * @param {number} port
 */
function runClients(port) {
  /** @type {net.Socket[]} */
  const sockets = [];
  process.on('message', (n) => {
    let headed = 0;
    for (let i = 0; i < Number(n); i++) {
      const socket = net.connect({ port, host: '127.0.0.1', localAddress: `127.0.0.${2 + (i % 30)}` });
      socket.setEncoding('utf8');
      socket.write('GET /api/walls/w/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n');
      let seen = false;
      socket.on('data', (text) => {
        if (!seen && String(text).includes('retry:')) {
          seen = true;
          if (++headed === Number(n)) process.send?.('open');
        }
      });
      sockets.push(socket);
    }
  });
}

/** @param {number} N */
async function measure(N) {
  const gc = /** @type {() => void} */ (globalThis.gc);
  if (typeof gc !== 'function') throw new Error('run with node --expose-gc');

  // The built server (npm run build), by a computed path: the bench typechecks as plain JS, not the build.
  const dist = new URL('../dist/', import.meta.url).href;
  const { loadConfig } = await import(`${dist}config.js`);
  const { startServer } = await import(`${dist}server.js`);
  const config = loadConfig({
    WALLCAST_PORT: '0',
    WALLCAST_HOST: '127.0.0.1',
    WALLCAST_STORE: 'memory',
    WALLCAST_LOG_LEVEL: 'error',
  });
  const server = await startServer(config);
  const port = server.port;

  /** Self sizes summed by node name ("constructor") of a heap snapshot. */
  /** @param {string} file */
  function sizesByName(file) {
    const snap = JSON.parse(readFileSync(file, 'utf8'));
    const fields = snap.snapshot.meta.node_fields;
    const types = snap.snapshot.meta.node_types[0];
    const width = fields.length;
    const [iType, iName, iSize] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
    const nodes = snap.nodes;
    /** @type {Map<string, { size: number, count: number }>} */
    const out = new Map();
    for (let i = 0; i < nodes.length; i += width) {
      const type = types[nodes[i + iType]];
      const name = type === 'object' || type === 'closure' ? snap.strings[nodes[i + iName]] : `(${type})`;
      const key = type === 'closure' ? `closure ${name}` : name;
      const entry = out.get(key) ?? { size: 0, count: 0 };
      entry.size += nodes[i + iSize];
      entry.count++;
      out.set(key, entry);
    }
    return out;
  }

  /** @param {string} label */
  function snapshot(label) {
    gc();
    const file = join(tmpdir(), `wallcast-heap-${process.pid}-${label}.heapsnapshot`);
    v8.writeHeapSnapshot(file);
    const sizes = sizesByName(file);
    if (process.env.KEEP_SNAPSHOT) console.log(file);
    else unlinkSync(file);
    return sizes;
  }

  /**
   * The clients live in a child process, so that only the server's side of
   * each stream is in this heap. It opens `n` streams and says when all have
   * their head.
   */
  const clients = fork(fileURLToPath(import.meta.url), ['--clients', String(port)], { stdio: 'inherit' });
  /** @param {number} n */
  async function open(n) {
    clients.send(n);
    await new Promise((resolve) => clients.once('message', resolve));
  }

  // A warm-up stream, so that lazily built shared state is not counted per stream.
  await open(10);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const before = snapshot('before');
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  await open(N);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const after = snapshot('after');
  gc();
  const heapAfter = process.memoryUsage().heapUsed;

  const rows = [...after]
    .map(([name, a]) => {
      const b = before.get(name) ?? { size: 0, count: 0 };
      return { name, bytes: (a.size - b.size) / N, count: (a.count - b.count) / N };
    })
    .filter((r) => Math.abs(r.bytes) >= 16)
    .sort((x, y) => y.bytes - x.bytes);
  console.log(`${N} idle streams: heap ${((heapAfter - heapBefore) / N / 1024).toFixed(2)} KB per stream`);
  console.log('bytes/stream  objects/stream  constructor');
  for (const r of rows.slice(0, 40)) {
    console.log(`${r.bytes.toFixed(0).padStart(12)}  ${r.count.toFixed(2).padStart(14)}  ${r.name}`);
  }
  clients.kill();
  await server.close();
  process.exit(0);
}
