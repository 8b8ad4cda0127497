// @ts-check
// The subscriber side of the benchmark, in its own process (forked by
// run.mjs, driven over IPC). Raw TCP sockets, one HTTP GET each, held open
// for the whole run. Per event it only finds the "seq:sentMicros" body with
// one regex, so it costs far less than the servers it measures.
import net from 'node:net';

const micros = () => Number(process.hrtime.bigint() / 1000n);

/**
 * Client ports are spread over many loopback sources. Each source has about
 * 28,000 ephemeral ports, and every socket a run closes sits in TIME_WAIT for
 * a minute: a run opens well over 100,000 sockets (19,000 at once in --full).
 * 32 sources give 900,000 ports, several runs' worth.
 */
const SOURCES = Array.from({ length: 32 }, (_, i) => `127.0.0.${i + 1}`);

/** A server that never answers must not hang the run: the socket counts as dropped. */
const HEAD_TIMEOUT_MS = 15_000;

/**
 * @typedef {object} Target
 * @property {string} host
 * @property {number} port
 * @property {string} path
 * @property {string} pattern regex source with two groups: seq and sent µs
 * @property {Record<string, string>} [headers]
 */

/**
 * @typedef {object} Subscriber
 * @property {net.Socket} socket
 * @property {string} buffer text after the last complete event
 * @property {number} count events received, duplicates included
 * @property {number} dups events whose seq was already seen
 * @property {Uint8Array} seen by seq + 1 (seq -1 is the replay marker)
 * @property {boolean} headed the server answered
 * @property {boolean} closed the connection ended or never opened
 */

/** @type {Subscriber[]} */
let sockets = [];
/** @type {number[]} */
let latencies = [];
let lastReceiveMicros = 0;
let bytes = 0;
let pattern = /data: (\d+):(\d+)/g;
/** Rotates over SOURCES across the whole run, not per connect. */
let nextSource = 0;

/**
 * @param {Subscriber} state
 * @param {string} chunk
 */
function onData(state, chunk) {
  bytes += chunk.length;
  const text = state.buffer + chunk;
  const end = text.lastIndexOf('\n\n');
  if (end === -1) {
    state.buffer = text;
    return;
  }
  state.buffer = text.slice(end + 2);
  const now = micros();
  pattern.lastIndex = 0;
  let matched = false;
  for (let m = pattern.exec(text); m !== null && m.index < end; m = pattern.exec(text)) {
    // Posts race each other, so seqs may arrive out of order; a dup is a seq seen twice.
    const seq = Number(m[1]) + 1;
    if (seq >= state.seen.length) {
      const grown = new Uint8Array(Math.max(seq + 1, state.seen.length * 2));
      grown.set(state.seen);
      state.seen = grown;
    }
    if (state.seen[seq]) state.dups++;
    state.seen[seq] = 1;
    state.count++;
    latencies.push(now - Number(m[2]));
    matched = true;
  }
  // Heartbeats are traffic, not deliveries: they must not stretch a measured window.
  if (matched) lastReceiveMicros = now;
}

/**
 * @param {Target} target
 * @returns {Promise<Subscriber>} once the server answered, or the socket ended or timed out
 */
function open({ host, port, path, headers = {} }) {
  return new Promise((resolve) => {
    const localAddress = SOURCES[nextSource++ % SOURCES.length];
    const socket = net.connect({ host, port, localAddress });
    /** @type {Subscriber} */
    const state = { socket, buffer: '', count: 0, dups: 0, seen: new Uint8Array(1024), headed: false, closed: false };
    const timer = setTimeout(() => socket.destroy(), HEAD_TIMEOUT_MS);
    socket.setNoDelay(true);
    socket.setEncoding('latin1');
    const extra = Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.on('connect', () =>
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nAccept: text/event-stream\r\n${extra}\r\n`),
    );
    socket.on('data', (chunk) => {
      if (!state.headed) {
        state.headed = true;
        clearTimeout(timer);
        resolve(state);
      }
      onData(state, String(chunk));
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      state.closed = true;
      resolve(state);
    });
  });
}

/**
 * @param {Float64Array} sorted
 * @param {number} p
 */
function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const openCount = () => sockets.filter((s) => s.headed && !s.closed).length;

const commands = {
  /**
   * Adds `count` subscribers, `batch` at a time, to those already open.
   * @param {{ target: Target, count: number, batch?: number }} args
   */
  async connect({ target, count, batch = 500 }) {
    pattern = new RegExp(target.pattern, 'g');
    const started = micros();
    for (let i = 0; i < count; i += batch) {
      const opened = await Promise.all(Array.from({ length: Math.min(batch, count - i) }, () => open(target)));
      sockets.push(...opened);
    }
    return { open: openCount(), micros: micros() - started };
  },
  /**
   * All at once, as after a restart: no batching.
   * @param {{ target: Target, count: number }} args
   */
  async storm({ target, count }) {
    pattern = new RegExp(target.pattern, 'g');
    const started = micros();
    sockets = await Promise.all(Array.from({ length: count }, () => open(target)));
    return { open: openCount(), startedMicros: started };
  },
  reset() {
    latencies = [];
    lastReceiveMicros = 0;
    bytes = 0;
    for (const s of sockets) {
      s.count = 0;
      s.dups = 0;
      s.seen.fill(0);
    }
    return {};
  },
  /** @param {{ expected: number }} args */
  stats({ expected }) {
    let delivered = 0;
    let dups = 0;
    let lost = 0;
    let closed = 0;
    for (const s of sockets) {
      delivered += s.count;
      dups += s.dups;
      lost += Math.max(0, expected - (s.count - s.dups));
      if (s.closed) closed++;
    }
    const sorted = Float64Array.from(latencies).sort();
    return {
      sockets: sockets.length,
      closed,
      delivered,
      dups,
      lost,
      lastReceiveMicros,
      bytes,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted.length ? (sorted[sorted.length - 1] ?? 0) : 0,
    };
  },
  /**
   * Resolves when every socket has `expected` events or after `timeoutMs`.
   * @param {{ expected: number, timeoutMs: number }} args
   */
  async drain({ expected, timeoutMs }) {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (sockets.every((s) => s.count - s.dups >= expected || s.closed)) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return { lastReceiveMicros };
  },
  /**
   * Closes all subscribers but the first `keep` (all by default): a smaller
   * scale on the same server without reconnecting.
   * @param {{ keep?: number }} args
   */
  close({ keep = 0 }) {
    for (const s of sockets.slice(keep)) s.socket.destroy();
    sockets = sockets.slice(0, keep);
    return { open: openCount() };
  },
};

/** @typedef {keyof typeof commands} Command */

process.on('message', async (/** @type {{ id: number, cmd: Command, args?: any }} */ { id, cmd, args }) => {
  try {
    const command = /** @type {(args: any) => unknown} */ (commands[cmd]);
    process.send?.({ id, result: await command(args ?? {}) });
  } catch (error) {
    process.send?.({ id, error: String(error instanceof Error ? error.stack : error) });
  }
});
process.on('disconnect', () => process.exit(0));
