// The subscriber side of the benchmark, in its own process (forked by
// run.mjs, driven over IPC). Raw TCP sockets, one HTTP GET each, held open
// for the whole run. Per event it only finds the "seq:sentMicros" body with
// one regex, so it costs far less than the servers it measures.
import net from 'node:net';

const micros = () => Number(process.hrtime.bigint() / 1000n);
/** Spread client ports over several loopback sources: 10,000 sockets per run, several runs. */
const SOURCES = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];

let sockets = [];
let latencies = [];
let lastReceiveMicros = 0;
let bytes = 0;
let pattern = /data: (\d+):(\d+)/g;

function open({ host, port, path, headers = {} }, index) {
  return new Promise((resolve) => {
    const state = { socket: undefined, buffer: '', count: 0, dups: 0, seen: new Uint8Array(1024), headed: false };
    const socket = net.connect({ host, port, localAddress: SOURCES[index % SOURCES.length] });
    state.socket = socket;
    socket.setNoDelay(true);
    socket.setEncoding('latin1');
    const extra = Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.on('connect', () =>
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nAccept: text/event-stream\r\n${extra}\r\n`),
    );
    socket.on('data', (chunk) => {
      bytes += chunk.length;
      if (!state.headed) {
        state.headed = true;
        resolve(state);
      }
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
    });
    socket.on('error', () => resolve(state));
    socket.on('close', () => {
      state.closed = true;
      resolve(state);
    });
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const commands = {
  async connect({ target, count, batch = 500 }) {
    pattern = new RegExp(target.pattern, 'g');
    const started = micros();
    for (let i = 0; i < count; i += batch) {
      const opened = await Promise.all(
        Array.from({ length: Math.min(batch, count - i) }, (_, j) => open(target, sockets.length + i + j)),
      );
      sockets.push(...opened);
    }
    return { open: sockets.filter((s) => s.headed && !s.closed).length, micros: micros() - started };
  },
  /** All at once, as after a restart: no batching. */
  async storm({ target, count }) {
    pattern = new RegExp(target.pattern, 'g');
    const started = micros();
    sockets = await Promise.all(Array.from({ length: count }, (_, i) => open(target, i)));
    return { open: sockets.filter((s) => s.headed && !s.closed).length, startedMicros: started };
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
      max: sorted.length ? sorted[sorted.length - 1] : 0,
    };
  },
  /** Resolves when every socket has `expected` events or after `timeoutMs`. */
  async drain({ expected, timeoutMs }) {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (sockets.every((s) => s.count - s.dups >= expected || s.closed)) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return { lastReceiveMicros };
  },
  close() {
    for (const s of sockets) s.socket.destroy();
    sockets = [];
    return {};
  },
};

process.on('message', async ({ id, cmd, args }) => {
  try {
    process.send({ id, result: await commands[cmd](args ?? {}) });
  } catch (error) {
    process.send({ id, error: String(error?.stack ?? error) });
  }
});
process.on('disconnect', () => process.exit(0));
