// @ts-check
// The subscriber side of the benchmark, in its own process (forked by
// run.mjs, driven over IPC). Raw TCP sockets, one HTTP GET each, held open
// for the whole run. Per event it only finds the "seq:sentMicros" body with
// one regex, so it costs far less than the servers it measures. Beside the
// subscribers it can run a churn (streams that connect and disconnect at a
// steady rate, counted apart) and read the presence events the subscribers
// got (issue 17).
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
 * The churn opens its streams this often, a few at a time (rate × tick), so
 * that its arrivals are spread over each second as real ones are, at a
 * timer cost the load generator does not notice.
 */
const CHURN_TICK_MS = 20;
/** How often `agreement` compares the subscribers' counts with the streams open. */
const AGREEMENT_POLL_MS = 20;
/** wallcast's presence event (issue 17): the count of the wall's people, with no id. */
const PRESENCE = /event: presence\ndata: \{"wall":"[^"]*","online":(\d+)/g;

/**
 * @typedef {object} Target
 * @property {string} host
 * @property {number} port
 * @property {string} path
 * @property {string} pattern regex source with two groups: seq and sent µs
 * @property {Record<string, string>} [headers]
 * @property {string} [clientIds] each stream gets `&client=` this prefix and a number unique in this
 *   process, so that presence counts every stream as a person of its own (8 to 64 characters of A-Z a-z 0-9 _ -)
 * @property {boolean} [presence] the streams ask for presence: keep each one's last count
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
 * @property {number} online the count of the last presence event, -1 before the first
 * @property {number} onlineMicros when that event arrived
 * @property {number} presenceEvents presence events received, since the last reset
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
/** Numbers client ids (Target.clientIds) across the whole process: no two streams share one. */
let nextClient = 0;
/** The subscribers ask for presence (the last connect's target said so): their data is scanned for it. */
let trackPresence = false;

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
  if (trackPresence) {
    PRESENCE.lastIndex = 0;
    for (let m = PRESENCE.exec(text); m !== null && m.index < end; m = PRESENCE.exec(text)) {
      state.online = Number(m[1]);
      state.onlineMicros = now;
      state.presenceEvents++;
    }
  }
}

/**
 * @param {Target} target
 * @param {boolean} [counted] a subscriber: its events are read and counted. A churning stream (false)
 *   only opens and closes; what it receives is dropped unread.
 * @returns {Promise<Subscriber>} once the server answered, or the socket ended or timed out
 */
function open({ host, port, path: base, headers = {}, clientIds }, counted = true) {
  return new Promise((resolve) => {
    const localAddress = SOURCES[nextSource++ % SOURCES.length];
    const path =
      clientIds === undefined ? base : `${base}${base.includes('?') ? '&' : '?'}client=${clientIds}${nextClient++}`;
    const socket = net.connect({ host, port, localAddress });
    /** @type {Subscriber} */
    const state = {
      socket,
      buffer: '',
      count: 0,
      dups: 0,
      seen: new Uint8Array(counted ? 1024 : 0),
      headed: false,
      closed: false,
      online: -1,
      onlineMicros: 0,
      presenceEvents: 0,
    };
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
      if (counted) onData(state, String(chunk));
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

/**
 * The subscribers' presence: how many are open, how many of those last heard
 * `expected`, and when the latest of their last events arrived.
 * @param {number} expected
 */
function presenceOf(expected) {
  let open = 0;
  let agreeing = 0;
  let latestMicros = 0;
  /** @type {Map<number, number>} count heard → streams that heard it last */
  const heard = new Map();
  for (const s of sockets) {
    if (!s.headed || s.closed) continue;
    open++;
    if (s.online === expected) agreeing++;
    latestMicros = Math.max(latestMicros, s.onlineMicros);
    heard.set(s.online, (heard.get(s.online) ?? 0) + 1);
  }
  return { open, agreeing, latestMicros, heard };
}

const commands = {
  /**
   * Adds `count` subscribers, `batch` at a time, to those already open.
   * @param {{ target: Target, count: number, batch?: number }} args
   */
  async connect({ target, count, batch = 500 }) {
    pattern = new RegExp(target.pattern, 'g');
    trackPresence = target.presence === true;
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
    trackPresence = target.presence === true;
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
      s.presenceEvents = 0;
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
    const presenceEvents = sockets.reduce((n, s) => n + s.presenceEvents, 0);
    return {
      presenceEvents,
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
   * Streams that come and go beside the subscribers: `rate` a second open
   * (spread over each second), each closes `lifetimeMs` after the server
   * answered, for `seconds`; then it waits for the last to close. Bounded:
   * `rate × seconds` streams in all, about `rate × lifetimeMs / 1000` open
   * at once. They are not subscribers: nothing they receive is counted, and
   * `close` does not touch them. Resolves with when the last one closed
   * (this process's clock, µs; the run's is the same monotonic clock).
   * @param {{ target: Target, rate: number, lifetimeMs: number, seconds: number }} args
   */
  async churn({ target, rate, lifetimeMs, seconds }) {
    const total = Math.round(rate * seconds);
    const started = micros();
    let failed = 0;
    let stoppedMicros = started;
    /** @type {Promise<void>[]} */
    const lives = [];
    const live = async () => {
      const state = await open(target, false);
      if (!state.headed) {
        failed++;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, lifetimeMs));
      state.socket.destroy();
      stoppedMicros = Math.max(stoppedMicros, micros());
    };
    for (let opened = 0; opened < total; ) {
      const due = Math.min(total, Math.floor(((micros() - started) / 1e6) * rate) + 1);
      for (; opened < due; opened++) lives.push(live());
      await new Promise((resolve) => setTimeout(resolve, CHURN_TICK_MS));
    }
    await Promise.all(lives);
    return { opened: total, failed, seconds: (micros() - started) / 1e6, stoppedMicros };
  },
  /**
   * Waits until every open subscriber's last presence event says how many
   * subscribers are open, then `holdMs` more to see that it stays so.
   * `agreedMicros` is when the last of them heard that count (µs, this
   * process's clock): a stream that already had it counts from `sinceMicros`.
   * @param {{ sinceMicros: number, timeoutMs: number, holdMs: number }} args
   */
  async agreement({ sinceMicros, timeoutMs, holdMs }) {
    const end = Date.now() + timeoutMs;
    let now = presenceOf(openCount());
    while (now.agreeing < now.open && Date.now() < end) {
      await new Promise((resolve) => setTimeout(resolve, AGREEMENT_POLL_MS));
      now = presenceOf(openCount());
    }
    const agreed = now.open > 0 && now.agreeing === now.open;
    const agreedMicros = Math.max(sinceMicros, now.latestMicros);
    if (agreed) await new Promise((resolve) => setTimeout(resolve, holdMs));
    const after = presenceOf(now.open);
    // What the streams heard last, most heard first: where they disagree, with what.
    const heard = [...after.heard.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
    return {
      open: now.open,
      agreed,
      agreedMicros,
      stable: agreed && after.open === now.open && after.agreeing === now.open,
      heard,
    };
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
