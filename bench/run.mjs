// @ts-check
// wallcast benchmark: the same scenarios against wallcast (memory, SQLite and
// Redis stores) and, in the same run, its peers: a raw node:http broadcaster,
// better-sse, Hono's streamSSE and, when installed, nginx + nchan. Loopback
// only, bounded in count and time, stops by itself.
//
//   npm run bench                      # the default run (< 5 min), writes BENCHMARKS.md
//   node bench/run.mjs --full          # + the largest wall (19,000 streams) and the Node peers' bursts at 2,000
//   node bench/run.mjs --quick         # a smoke run at small scales, writes nothing
//   node bench/run.mjs --only wallcast,nchan   # just those parts, writes nothing; keys: wallcast nchan
//       raw better-sse hono sqlite redis wallcast-largest nchan-largest (with --full) replay heap throughput
import { execFileSync, fork, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

const quick = process.argv.includes('--quick');
const full = !quick && process.argv.includes('--full');
/** `--only a,b` or `--only=a,b`: a partial run, for working on the harness; its report is not written. */
const only = (() => {
  const at = process.argv.findIndex((arg) => arg === '--only' || arg.startsWith('--only='));
  const arg = process.argv[at] ?? '';
  const value = at === -1 ? undefined : arg.includes('=') ? arg.slice('--only='.length) : process.argv[at + 1];
  return value === undefined ? undefined : new Set(value.split(','));
})();
const wanted = (/** @type {string} */ key) => only === undefined || only.has(key);

/** Subscriber counts. Steady runs largest first: a smaller scale is the same server with streams closed. */
const STEADY_SCALES = quick ? [1000] : [10_000, 2000, 1000];
const BURST_SCALES = quick ? [500] : [2000, 500];
/** Idle memory is read before the first post, at each of these counts. */
const IDLE_SCALES = quick ? [1000] : [2000, 10_000];
/** better-sse, Hono, and the SQLite and Redis stores: one steady scale, compared with wallcast's at the same count. */
const PEER_SCALE = quick ? 1000 : 2000;
/** The raw broadcaster is the kernel floor's reference: at the largest scale and the peers'. */
const RAW_STEADY_SCALES = quick ? [1000] : [10_000, 2000];
/**
 * The raw broadcaster, better-sse and Hono deliver 14,000 to 50,000 events/s:
 * a burst at 2,000 (1,000,000 deliveries) takes each of them 20 s to over a
 * minute, more than the default run's budget, so that one is in --full only.
 * nchan, the baseline of the burst targets, runs both in every mode.
 */
const PEER_BURST_SCALES = full ? [2000, 500] : [500];
/**
 * --full: the largest wall one process can hold. The hard limit is 20,000
 * open files per process; 19,000 streams leave room for the listen socket,
 * the posters' keep-alive connections, stdio and the store.
 */
const FULL_SCALE = 19_000;
/**
 * Appended to what the peers are posted, so that every server sends about
 * as many bytes per event: wallcast's frame carries the whole message JSON
 * with its HTML (about 295 bytes), a peer's only the posted text. A write's
 * kernel time grows with its bytes, so without it the peers' writes would
 * be the cheaper ones. The report's bytes/event column shows what each sent.
 */
const PEER_PADDING = ` ${'x'.repeat(255)}`;

/** The scale the idle-memory targets are set at. */
const MEMORY_SCALE = quick ? 1000 : 10_000;
/** Streams of the heap-snapshot breakdown (enough that per-stream bytes stand out of the fixed ones). */
const HEAP_STREAMS = quick ? 500 : 2000;
const REPLAY_SUBSCRIBERS = quick ? 1000 : 10_000;

/** --quick: fewer posts per burst for every server alike, so that the slow peers keep the smoke run short. */
const BURST_POSTS = quick ? 200 : 500;
const BURST_POSTERS = 8;
const STEADY_RATE = 5;
const STEADY_SECONDS = quick ? 4 : 8;
const REPLAY_BEHIND = 100;
const THROUGHPUT_SECONDS = quick ? 1 : 3;
/** A fresh Node process runs its post path unoptimised at first: this long of posting is not counted, for every server. */
const THROUGHPUT_WARMUP_MS = 1000;
/**
 * Posts before a server's first measured scenario, not counted (their seq is
 * -1, which no pattern matches): the fan-out loop gets optimised before it is
 * timed, for every server alike.
 */
const WARMUP_POSTS = 10;
const THROUGHPUT_POSTERS = 32;
/** Steady events arrive within milliseconds; this only bounds a server that lost some. */
const STEADY_DRAIN_MS = 10_000;
/** Long enough for the slowest peer (Hono, about 13,000 deliveries/s) to deliver a whole burst at 2,000. */
const BURST_DRAIN_MS = 120_000;
/** A scenario starts once the server used no more than one clock tick in this window (closes, connects, GC)... */
const SETTLE_WINDOW_MS = 300;
/** ...or after this long, so that a busy server cannot stall the run. */
const SETTLE_MAX_MS = 5000;
/** How long a server may take to exit on SIGTERM before it is killed. */
const STOP_GRACE_MS = 3000;
const START_TIMEOUT_MS = 15_000;
/** The server's start-up line; JSON log lines quote the message, so a URL ends at whitespace or a quote. */
const LISTENING = /listening on (https?:\/\/[^\s"]+)/;

const NGINX = '/usr/sbin/nginx';
const NCHAN = '/usr/lib/nginx/modules/ngx_nchan_module.so';
const REDIS_URL = 'redis://127.0.0.1:6379/0';
const root = new URL('..', import.meta.url).pathname;
const micros = () => Number(process.hrtime.bigint() / 1000n);
const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));
const TICK_MICROS = 1e6 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
const runStarted = Date.now();
const elapsed = () => `[${Math.round((Date.now() - runStarted) / 1000)} s]`;
/** Unique per run: the Redis key prefixes and temporary files of this run only. */
const RUN_ID = `${process.pid}-${Date.now()}`;

/**
 * @typedef {object} Reply
 * @property {number} status
 * @property {string} text
 *
 * @typedef {object} Server
 * @property {string} name
 * @property {number} pid the process whose CPU and memory are measured (the nginx worker for nchan)
 * @property {string} url
 * @property {string} subscribePath
 * @property {string} pattern regex source: the seq and sent-µs groups of one event
 * @property {(agent: http.Agent, body: string) => Promise<Reply>} post
 * @property {() => Promise<void>} stop
 * @property {() => Promise<number>} [writes] wallcast's live writes so far (its /metrics), to count events per write
 *
 * @typedef {object} Stats what loadgen.mjs counts over one scenario
 * @property {number} sockets
 * @property {number} closed subscribers dropped (or never opened)
 * @property {number} delivered
 * @property {number} dups
 * @property {number} lost
 * @property {number} lastReceiveMicros
 * @property {number} bytes
 * @property {number} p50 µs
 * @property {number} p99 µs
 * @property {number} max µs
 *
 * @typedef {Stats & { posts: number, cpuPerDelivery: number, userPerDelivery: number, sysPerDelivery: number, clientCores: number }} Steady
 * @typedef {Stats & { seconds: number, deliveriesPerSecond: number, cpuPerDelivery: number, writesPerDelivery?: number }} Burst
 * @typedef {{ open: number, bytesPerStream: number, rss: number }} Idle
 * @typedef {{ name: string, idle: Record<number, Idle>, steady: Record<number, Steady>, burst: Record<number, Burst>, error?: string }} Ladder
 * @typedef {{ kind: 'idle' | 'steady' | 'burst', n: number }} Step
 * @typedef {{ postsPerSecond: number, refused: number } | { error: string }} Throughput
 * @typedef {Stats & { open: number, seconds: number, cpuSeconds: number }} Replay
 */

// ---------------------------------------------------------------- processes

/** utime and stime of a process (all its threads), in µs. */
function cpuTimes(/** @type {number} */ pid) {
  const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
  return { user: Number(fields[11]) * TICK_MICROS, sys: Number(fields[12]) * TICK_MICROS };
}

function cpuMicros(/** @type {number} */ pid) {
  const { user, sys } = cpuTimes(pid);
  return user + sys;
}

function rssBytes(/** @type {number} */ pid) {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1]) * 1024;
}

/** Waits for the server to go quiet, so that a scenario's CPU is its own and not the last one's closes. */
async function settle(/** @type {number} */ pid) {
  const end = Date.now() + SETTLE_MAX_MS;
  let last = cpuMicros(pid);
  while (Date.now() < end) {
    await sleep(SETTLE_WINDOW_MS);
    const now = cpuMicros(pid);
    if (now - last <= TICK_MICROS) return;
    last = now;
  }
}

/** Every process this run started, killed if the run itself ends early. */
const children = new Set(/** @type {number[]} */ ([]));
process.on('exit', () => {
  for (const pid of children) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
});
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) process.once(signal, () => process.exit(130));

/** @param {import('node:child_process').ChildProcess} child */
function track(child) {
  if (child.pid === undefined) return;
  const pid = child.pid;
  children.add(pid);
  child.once('exit', () => children.delete(pid));
}

/**
 * SIGTERM, then SIGKILL after STOP_GRACE_MS; resolves once the process is gone.
 * @param {import('node:child_process').ChildProcess} child
 */
async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/**
 * Resolves with the URL of the first complete output line (stdout or stderr)
 * that says `listening on URL`: whole lines only, so that a URL split across
 * two chunks is never read half. The output keeps flowing afterwards (stdout
 * is discarded, stderr passed on), so a server that logs every request never
 * blocks on a full pipe.
 * @param {import('node:child_process').ChildProcess} child
 * @param {string} name
 * @returns {Promise<string>}
 */
function listeningUrl(child, name) {
  let seen = '';
  return new Promise((resolve, reject) => {
    let found = false;
    const timer = setTimeout(
      () => fail(new Error(`${name} did not start within ${START_TIMEOUT_MS} ms: ${seen}`)),
      START_TIMEOUT_MS,
    );
    /** @param {Error} error */
    const fail = (error) => {
      if (found) return;
      found = true;
      child.kill('SIGKILL');
      reject(error);
    };
    /** @param {import('node:stream').Readable | null} stream */
    const scan = (stream, forward = false) => {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (/** @type {string} */ chunk) => {
        if (forward) process.stderr.write(chunk);
        if (found) return;
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          seen = `${seen}${line}\n`.slice(-2000);
          const match = LISTENING.exec(line);
          if (match?.[1] !== undefined) {
            found = true;
            clearTimeout(timer);
            resolve(loopbackOrigin(match[1]));
            return;
          }
        }
      });
    };
    scan(child.stdout);
    scan(child.stderr, true);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      fail(new Error(`${name} exited (${code ?? signal}) before listening: ${seen}`));
    });
  });
}

/** `http://0.0.0.0:1234/` → `http://127.0.0.1:1234`: the benchmark is loopback only. */
function loopbackOrigin(/** @type {string} */ text) {
  const url = new URL(text);
  if (url.hostname === '0.0.0.0' || url.hostname === '[::]' || url.hostname === 'localhost') url.hostname = '127.0.0.1';
  return url.origin;
}

/**
 * @param {string} name
 * @param {string} command
 * @param {string[]} args
 * @param {Record<string, string>} env
 */
async function startProcess(name, command, args, env = {}) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  const url = await listeningUrl(child, name);
  return { pid: /** @type {number} */ (child.pid), url, stop: () => stopChild(child) };
}

/** Where the SQLite stores keep this run's data. */
const tmp = mkdtempSync(join(os.tmpdir(), 'wallcast-bench-'));
let instances = 0;

/**
 * A wallcast process on its own store: a fresh SQLite file, or a Redis key
 * prefix of this run that `stop` deletes.
 * @param {'memory' | 'sqlite' | 'redis'} store
 * @returns {Promise<Server>}
 */
async function startWallcast(store = 'memory') {
  const instance = ++instances;
  const prefix = store === 'redis' ? `wallcast-bench-${RUN_ID}-${instance}:` : undefined;
  const storeUrl =
    store === 'sqlite'
      ? `sqlite:${join(tmp, `bench-${instance}.db`)}`
      : prefix
        ? `${REDIS_URL}?prefix=${prefix}`
        : 'memory';
  const server = await startProcess(`wallcast (${store})`, process.execPath, [join(root, 'dist/main.js')], {
    PORT: '0',
    WALLCAST_STORE: storeUrl,
    WALLCAST_HISTORY: '1000',
  });
  return {
    ...server,
    name: `wallcast (${store})`,
    subscribePath: '/api/walls/bench/events?backlog=0',
    pattern: '"body":"(\\d+):(\\d+)"',
    post: (agent, body) =>
      request(agent, server.url, '/api/walls/bench/messages', JSON.stringify({ body }), 'application/json'),
    writes: async () => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      return Number(/^wallcast_stream_writes_total (\d+)/m.exec(text)?.[1] ?? Number.NaN);
    },
    stop: async () => {
      await server.stop();
      if (prefix) await deleteRedisKeys(prefix);
    },
  };
}

/** Leaves Redis as it was: this run's keys only (the prefix names the run). */
async function deleteRedisKeys(/** @type {string} */ prefix) {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } catch (error) {
    console.error(`bench: could not delete Redis keys ${prefix}*: ${String(error)}`);
  } finally {
    redis.disconnect();
  }
}

/**
 * A peer in bench/ with the raw broadcaster's interface: GET /sub, POST /pub.
 * @param {string} name
 * @param {string} file
 * @param {string} pattern
 * @returns {Promise<Server>}
 */
async function startPeer(name, file, pattern) {
  const server = await startProcess(name, process.execPath, [join(root, 'bench', file)], { PORT: '0' });
  return {
    ...server,
    name,
    subscribePath: '/sub',
    pattern,
    post: (agent, body) => request(agent, server.url, '/pub', body + PEER_PADDING, 'text/plain'),
  };
}

/** @returns {Promise<Server>} */
async function startNchan() {
  const prefix = mkdtempSync(join(os.tmpdir(), 'wallcast-nchan-'));
  const port = await freePort();
  const conf = readFileSync(join(root, 'bench/nchan.conf'), 'utf8')
    .replaceAll('PREFIX', prefix)
    .replace('127.0.0.1:PORT', `127.0.0.1:${port}`);
  writeFileSync(join(prefix, 'nginx.conf'), conf);
  const master = spawn(NGINX, ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  track(master);
  const worker = await nginxWorker(/** @type {number} */ (master.pid));
  children.add(worker);
  await waitForPort(port);
  const url = `http://127.0.0.1:${port}`;
  return {
    pid: worker,
    url,
    name: 'nginx + nchan',
    subscribePath: '/sub/bench',
    pattern: 'data: (\\d+):(\\d+)',
    post: (agent, body) => request(agent, url, '/pub/bench', body + PEER_PADDING, 'text/plain'),
    // SIGTERM: nginx's fast shutdown ends the workers with the master.
    stop: async () => {
      await stopChild(master);
      children.delete(worker);
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

/** The one worker of an nginx master (worker_processes 1): it does all the work, so it is what is measured. */
async function nginxWorker(/** @type {number} */ masterPid) {
  for (let i = 0; i < 100; i++) {
    await sleep(50);
    const list = readFileSync(`/proc/${masterPid}/task/${masterPid}/children`, 'utf8').trim();
    if (list) return Number(list.split(' ')[0]);
  }
  throw new Error('nginx started no worker');
}

/** Resolves once something accepts connections on the port (nginx prints nothing when it is ready). */
async function waitForPort(/** @type {number} */ port) {
  const end = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < end) {
    const ok = await new Promise((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on port ${port}`);
}

/** @returns {Promise<number>} */
async function freePort() {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const { port } = /** @type {net.AddressInfo} */ (server.address());
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * @param {http.Agent} agent
 * @param {string} base
 * @param {string} path
 * @param {string} body
 * @param {string} type
 * @returns {Promise<Reply>}
 */
function request(agent, base, path, body, type) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}${path}`,
      { method: 'POST', agent, headers: { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

// ---------------------------------------------------------------- load generator

/**
 * @typedef {object} Loadgen
 * @property {number} pid
 * @property {(cmd: string, args?: object) => Promise<any>} call
 * @property {() => void} stop
 */

/** @returns {Loadgen} */
function startLoadgen() {
  const child = fork(join(root, 'bench/loadgen.mjs'), [], { stdio: 'inherit' });
  track(child);
  let next = 0;
  /** @type {Map<number, { resolve: (value: any) => void, reject: (error: Error) => void }>} */
  const waiting = new Map();
  child.on('message', (/** @type {any} */ { id, result, error }) => {
    const entry = waiting.get(id);
    waiting.delete(id);
    if (error) entry?.reject(new Error(error));
    else entry?.resolve(result);
  });
  child.once('exit', (code) => {
    for (const entry of waiting.values()) entry.reject(new Error(`loadgen exited with ${code}`));
  });
  return {
    pid: /** @type {number} */ (child.pid),
    call: (cmd, args) =>
      new Promise((resolve, reject) => {
        const id = next++;
        waiting.set(id, { resolve, reject });
        child.send({ id, cmd, args });
      }),
    stop: () => child.kill(),
  };
}

/** @param {Server} server */
const targetOf = (server) => {
  const url = new URL(server.url);
  return { host: url.hostname, port: Number(url.port), path: server.subscribePath, pattern: server.pattern };
};

// ---------------------------------------------------------------- scenarios

/**
 * Brings the server to `n` open streams: closes the extra ones (and any the
 * last scenario dropped, which it already counted) or opens new ones.
 * @param {Server} server
 * @param {Loadgen} loadgen
 * @param {number} n
 */
async function scaleTo(server, loadgen, n) {
  let { open } = await loadgen.call('close', { keep: n });
  if (open < n) ({ open } = await loadgen.call('connect', { target: targetOf(server), count: n - open }));
  return /** @type {number} */ (open);
}

/**
 * RSS growth over `n` idle streams, from the process as it started.
 * @param {Server} server
 * @param {number} rssAtStart
 * @param {number} open
 * @param {number} n
 * @returns {Promise<Idle>}
 */
async function idle(server, rssAtStart, open, n) {
  await settle(server.pid);
  const rss = rssBytes(server.pid);
  return { open, bytesPerStream: (rss - rssAtStart) / n, rss };
}

/**
 * STEADY_RATE posts/s for STEADY_SECONDS, each post on its own tick: one write per stream per event.
 * @param {Server} server
 * @param {Loadgen} loadgen
 * @param {http.Agent} agent
 * @returns {Promise<Steady>}
 */
async function steady(server, loadgen, agent) {
  await settle(server.pid);
  await loadgen.call('reset');
  const before = cpuTimes(server.pid);
  const clientBefore = cpuMicros(loadgen.pid);
  const posts = STEADY_RATE * STEADY_SECONDS;
  const started = micros();
  for (let i = 0; i < posts; i++) {
    const due = started + (i * 1e6) / STEADY_RATE;
    const wait = due - micros();
    if (wait > 0) await sleep(wait / 1000);
    await server.post(agent, `${i}:${micros()}`);
  }
  await loadgen.call('drain', { expected: posts, timeoutMs: STEADY_DRAIN_MS });
  const after = cpuTimes(server.pid);
  const clientCores = (cpuMicros(loadgen.pid) - clientBefore) / (micros() - started);
  /** @type {Stats} */
  const stats = await loadgen.call('stats', { expected: posts });
  const per = (/** @type {number} */ us) => us / Math.max(1, stats.delivered);
  return {
    ...stats,
    posts,
    cpuPerDelivery: per(after.user + after.sys - before.user - before.sys),
    userPerDelivery: per(after.user - before.user),
    sysPerDelivery: per(after.sys - before.sys),
    clientCores,
  };
}

/**
 * BURST_POSTS posts from BURST_POSTERS concurrent posters, as fast as they are accepted.
 * @param {Server} server
 * @param {Loadgen} loadgen
 * @param {http.Agent} agent
 * @returns {Promise<Burst>}
 */
async function burst(server, loadgen, agent) {
  await settle(server.pid);
  await loadgen.call('reset');
  const writesBefore = await server.writes?.();
  const cpuBefore = cpuMicros(server.pid);
  const started = micros();
  let seq = 0;
  const posters = Array.from({ length: BURST_POSTERS }, async () => {
    while (seq < BURST_POSTS) {
      const i = seq++;
      await server.post(agent, `${i}:${micros()}`);
    }
  });
  await Promise.all(posters);
  const { lastReceiveMicros } = await loadgen.call('drain', { expected: BURST_POSTS, timeoutMs: BURST_DRAIN_MS });
  const cpu = cpuMicros(server.pid) - cpuBefore;
  const writesAfter = await server.writes?.();
  /** @type {Stats} */
  const stats = await loadgen.call('stats', { expected: BURST_POSTS });
  const seconds = (lastReceiveMicros - started) / 1e6;
  return {
    ...stats,
    writesPerDelivery:
      writesBefore === undefined || writesAfter === undefined
        ? undefined
        : (writesAfter - writesBefore) / Math.max(1, stats.delivered),
    seconds,
    deliveriesPerSecond: stats.delivered / seconds,
    cpuPerDelivery: cpu / Math.max(1, stats.delivered),
  };
}

/**
 * @param {Server} server
 * @param {http.Agent} agent
 */
async function warmUp(server, agent) {
  for (let i = 0; i < WARMUP_POSTS; i++) await server.post(agent, `-1:${micros()}`);
  return true;
}

/**
 * The scenarios of one server, in order, on one process: idle first (before
 * any post), then steady from the largest scale down, then bursts.
 * @param {() => Promise<Server>} start
 * @param {Loadgen} loadgen
 * @param {Step[]} plan
 * @returns {Promise<Ladder>}
 */
async function runLadder(start, loadgen, plan) {
  const server = await start();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  /** @type {Ladder} */
  const result = { name: server.name, idle: {}, steady: {}, burst: {} };
  try {
    await settle(server.pid);
    const rssAtStart = rssBytes(server.pid);
    let warm = false;
    for (const { kind, n } of plan) {
      const open = await scaleTo(server, loadgen, n);
      console.log(`bench: ${elapsed()} ${server.name}: ${kind} at ${n} (${open} open)`);
      if (kind !== 'idle' && !warm) warm = await warmUp(server, agent);
      if (kind === 'idle') result.idle[n] = await idle(server, rssAtStart, open, n);
      else if (kind === 'steady') result.steady[n] = await steady(server, loadgen, agent);
      else result.burst[n] = await burst(server, loadgen, agent);
    }
  } finally {
    await loadgen.call('close');
    agent.destroy();
    await server.stop();
  }
  return result;
}

/**
 * @param {number[]} idleAt
 * @param {number[]} steadyAt
 * @param {number[]} burstAt
 * @returns {Step[]}
 */
const plan = (idleAt, steadyAt, burstAt) => [
  ...idleAt.map((n) => ({ kind: /** @type {const} */ ('idle'), n })),
  ...steadyAt.map((n) => ({ kind: /** @type {const} */ ('steady'), n })),
  ...burstAt.map((n) => ({ kind: /** @type {const} */ ('burst'), n })),
];

/**
 * Clients reconnect at once with a Last-Event-ID REPLAY_BEHIND messages back.
 * @param {Loadgen} loadgen
 * @returns {Promise<Replay>}
 */
async function replayStorm(loadgen) {
  const server = await startWallcast();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  try {
    const marker = JSON.parse((await server.post(agent, `-1:${micros()}`)).text);
    for (let i = 0; i < REPLAY_BEHIND; i++) await server.post(agent, `${i}:${micros()}`);
    const target = { ...targetOf(server), headers: { 'Last-Event-ID': marker.cursor } };
    await settle(server.pid);
    const cpuBefore = cpuMicros(server.pid);
    const { open, startedMicros } = await loadgen.call('storm', { target, count: REPLAY_SUBSCRIBERS });
    const { lastReceiveMicros } = await loadgen.call('drain', { expected: REPLAY_BEHIND, timeoutMs: 30_000 });
    /** @type {Stats} */
    const stats = await loadgen.call('stats', { expected: REPLAY_BEHIND });
    const cpu = cpuMicros(server.pid) - cpuBefore;
    return { open, ...stats, seconds: (lastReceiveMicros - startedMicros) / 1e6, cpuSeconds: cpu / 1e6 };
  } finally {
    await loadgen.call('close');
    agent.destroy();
    await server.stop();
  }
}

/**
 * THROUGHPUT_POSTERS posting back to back for `duration` ms.
 * @param {Server} server
 * @param {http.Agent} agent
 * @param {number} duration
 */
async function postFor(server, agent, duration) {
  const end = Date.now() + duration;
  let accepted = 0;
  let refused = 0;
  await Promise.all(
    Array.from({ length: THROUGHPUT_POSTERS }, async () => {
      while (Date.now() < end) {
        const { status } = await server.post(agent, `0:${micros()}`);
        if (status >= 200 && status < 300) accepted++;
        else refused++;
      }
    }),
  );
  return { accepted, refused };
}

/**
 * Posts/s with no subscribers, THROUGHPUT_POSTERS keep-alive posters. Any 2xx
 * is accepted: nchan answers 202 when no one is subscribed.
 * @param {() => Promise<Server>} start
 * @returns {Promise<Throughput>}
 */
async function postThroughput(start) {
  const server = await start().catch((/** @type {Error} */ error) => error);
  if (server instanceof Error) return { error: String(server.message).split('\n')[0] ?? 'failed' };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  try {
    await postFor(server, agent, THROUGHPUT_WARMUP_MS);
    const started = micros();
    const { accepted, refused } = await postFor(server, agent, THROUGHPUT_SECONDS * 1000);
    return { postsPerSecond: accepted / ((micros() - started) / 1e6), refused };
  } finally {
    agent.destroy();
    await server.stop();
  }
}

// ---------------------------------------------------------------- main

/**
 * @typedef {object} Results
 * @property {Record<string, Ladder>} ladders by server key
 * @property {Replay} [replay]
 * @property {Record<string, Throughput>} throughput by server key
 * @property {string[]} [heap] bench/stream-heap.mjs's table: where an idle stream's heap goes
 */

async function main() {
  const loadgen = startLoadgen();
  const haveNchan = existsSync(NGINX) && existsSync(NCHAN);
  const results = /** @type {Results} */ ({ ladders: {}, throughput: {} });
  try {
    for (const [key, start, steps] of ladders(haveNchan)) {
      if (!wanted(key)) continue;
      results.ladders[key] = await runLadder(start, loadgen, steps).catch((/** @type {Error} */ error) => {
        console.error(`bench: ${key} failed: ${error.message}`);
        return { name: key, idle: {}, steady: {}, burst: {}, error: String(error.message).split('\n')[0] };
      });
    }
    if (wanted('replay')) {
      console.log(
        `bench: ${elapsed()} wallcast (memory): replay storm (${REPLAY_SUBSCRIBERS} × ${REPLAY_BEHIND} behind)`,
      );
      results.replay = await replayStorm(loadgen);
    }
    if (wanted('heap')) {
      console.log(`bench: ${elapsed()} heap snapshots of idle streams`);
      results.heap = heapOfIdleStreams();
    }
    if (wanted('throughput')) {
      console.log(`bench: ${elapsed()} post throughput`);
      for (const [key, start] of posters(haveNchan)) results.throughput[key] = await postThroughput(start);
    }
  } finally {
    loadgen.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`bench: ${elapsed()} done`);
  const report = render(results, haveNchan);
  console.log(report);
  if (!quick && only === undefined) writeFileSync(join(root, 'BENCHMARKS.md'), report);
}

/** Idle streams measured by two heap snapshots (bench/stream-heap.mjs, a process of its own): its table's lines. */
function heapOfIdleStreams() {
  const run = spawnSync(
    process.execPath,
    ['--expose-gc', join(root, 'bench', 'stream-heap.mjs'), String(HEAP_STREAMS)],
    {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, KEEP_SNAPSHOT: '' },
    },
  );
  const lines = run.stdout.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('{'));
  if (run.status !== 0) lines.push(`(stream-heap exited ${run.status}: ${run.stderr.trim().split('\n')[0]})`);
  return lines;
}

const raw = () => startPeer('raw node:http', 'raw-broadcaster.mjs', 'data: (\\d+):(\\d+)');

/**
 * Every server and what it runs, in order. wallcast and nchan take every
 * scale; the raw broadcaster the two the kernel floor is read at; the other
 * peers and stores the peers' scale. --full's largest wall runs on fresh
 * processes of its own, so that the other scenarios are the same as in the
 * default run and its RSS per stream is read from a process that held no more.
 * @param {boolean} haveNchan
 * @returns {[string, () => Promise<Server>, Step[]][]}
 */
function ladders(haveNchan) {
  const wallPlan = plan(IDLE_SCALES, STEADY_SCALES, BURST_SCALES);
  const largest = plan([FULL_SCALE], [FULL_SCALE], []);
  const storePlan = plan([PEER_SCALE], [PEER_SCALE], BURST_SCALES);
  const peerPlan = plan([PEER_SCALE], [PEER_SCALE], PEER_BURST_SCALES);
  const better = () => startPeer('better-sse', 'better-sse-server.mjs', 'data: ?"(\\d+):(\\d+)');
  const hono = () => startPeer('hono streamSSE', 'hono-sse-server.mjs', 'data: (\\d+):(\\d+)');
  /** @type {[string, () => Promise<Server>, Step[]][]} */
  const list = [['wallcast', () => startWallcast('memory'), wallPlan]];
  if (haveNchan) list.push(['nchan', startNchan, wallPlan]);
  list.push(
    ['raw', raw, plan(IDLE_SCALES, RAW_STEADY_SCALES, PEER_BURST_SCALES)],
    ['better-sse', better, peerPlan],
    ['hono', hono, peerPlan],
    ['sqlite', () => startWallcast('sqlite'), storePlan],
    ['redis', () => startWallcast('redis'), storePlan],
  );
  if (full) list.push(['wallcast-largest', () => startWallcast('memory'), largest]);
  if (full && haveNchan) list.push(['nchan-largest', startNchan, largest]);
  return list;
}

/**
 * @param {boolean} haveNchan
 * @returns {[string, () => Promise<Server>][]}
 */
const posters = (haveNchan) => [
  ['raw', raw],
  ...(haveNchan ? [/** @type {[string, () => Promise<Server>]} */ (['nchan', startNchan])] : []),
  ['memory', () => startWallcast('memory')],
  ['sqlite', () => startWallcast('sqlite')],
  ['redis', () => startWallcast('redis')],
];

// ---------------------------------------------------------------- report

const fmt = (/** @type {number} */ n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const ms = (/** @type {number} */ us) => fmt(us / 1000, 1);
const kb = (/** @type {number} */ bytes) => fmt(bytes / 1024, 1);
const times = (/** @type {number} */ x) => (Number.isFinite(x) ? `${fmt(x, 2)}×` : 'n/a');
const count = (/** @type {number} */ n) => n.toLocaleString('en-US');
const ratio = (/** @type {number | undefined} */ a, /** @type {number | undefined} */ b) =>
  a !== undefined && b !== undefined && b > 0 ? a / b : Number.NaN;
const row = (/** @type {string[]} */ cells) => `| ${cells.join(' | ')} |`;
/** @param {Stats | undefined} s */
const faults = (s) => (s ? `${s.lost} / ${s.dups} / ${s.closed}` : 'n/a');
/** @param {Stats | undefined} s */
const clean = (s) => s !== undefined && s.lost + s.dups + s.closed === 0;

/**
 * @typedef {object} Target
 * @property {string} name
 * @property {number} value
 * @property {(x: number) => boolean} ok
 * @property {(Stats | undefined)[]} wallcast the wallcast scenarios behind the figure: it only counts with 0 lost, dup and dropped
 * @property {[string, Stats | undefined][]} [others] the peers' scenarios, shown beside it
 * @property {number} [digits]
 * @property {string} [why] where the time or the bytes go when it is missed, and what would close it
 */

/**
 * @param {Results} r
 * @param {boolean} haveNchan
 */
function render(r, haveNchan) {
  const L = r.ladders;
  const w = L.wallcast;
  const base = haveNchan ? L.nchan : L.raw;
  const baseName = base?.name ?? 'baseline';
  const lines = [];
  lines.push(...header(haveNchan));
  lines.push(...targetsSection(targets(r, haveNchan), baseName));
  lines.push(...steadySection(L), ...burstSection(L), ...idleSection(L));
  if (w) lines.push(...peersSection(L, w), ...floorSection(L, w), ...storesSection(L, w));
  if (full) lines.push(...largestSection(L['wallcast-largest'], L['nchan-largest']));
  if (r.replay) lines.push(...replaySection(r.replay));
  if (r.heap) lines.push(...heapSection(r.heap));
  lines.push(...throughputSection(r.throughput, haveNchan));
  return `${lines.join('\n')}\n`;
}

/**
 * Where the idle-memory target's bytes go.
 * @param {string[]} heap
 */
function heapSection(heap) {
  const [title, columns, ...rows] = heap;
  return [
    "## Where an idle stream's heap goes",
    '',
    `\`node --expose-gc bench/stream-heap.mjs ${HEAP_STREAMS}\`: wallcast (memory store) in one process, ` +
      'the clients in another; two heap snapshots, before and after the streams opened, grouped by constructor ' +
      `(self size, bytes and objects per stream). ${title ?? ''}`,
    '',
    '```',
    columns ?? '',
    ...rows.slice(0, 24),
    '```',
    '',
    "All but `Subscriber` and `StreamOut` (about 170 bytes) are Node's own per connection: the `Socket` and its " +
      '`TCP` handle, `IncomingMessage` with its raw headers and URL (the strings), `ServerResponse` with its sent ' +
      "head, their stream states, and the listeners Node's HTTP server binds to each socket (`native_bind`). The " +
      "HTTP parser is not among them: a stream's connection gives it back to Node once the head is sent " +
      '(src/http/stream-connection.ts), about 0.6 KB of heap and 2.5 KB of RSS per stream. RSS per stream adds the ' +
      "native side of what is left (the libuv handle, the socket's buffers) and malloc's overhead.",
    '',
  ];
}

/** @param {boolean} haveNchan */
function header(haveNchan) {
  const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  const nginxVersion = existsSync(NGINX)
    ? spawnSync(NGINX, ['-v'], { encoding: 'utf8' }).stderr.trim() + (haveNchan ? ' with nchan' : '')
    : 'no nginx';
  const mode = quick ? 'node bench/run.mjs --quick' : full ? 'node bench/run.mjs --full' : 'npm run bench';
  return [
    '# Benchmarks',
    '',
    `Measured ${new Date().toISOString()} with \`${mode}\` on ${os.cpus().length} × ${cpuModel}, ` +
      `${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${nginxVersion.replace(/^nginx version: /, '')}.`,
    'All servers ran one after another in the same run; every ratio compares numbers from this run only.',
    'The machine is shared and noisy: compare ratios, not absolute numbers, across runs.',
    '',
    `- **steady**: ${STEADY_RATE} posts/s for ${STEADY_SECONDS} s, one post per tick (one write per stream per event). ` +
      'A smaller scale is the same server process after the extra streams closed.',
    `- **burst**: ${BURST_POSTS} posts from ${BURST_POSTERS} concurrent posters, as fast as they are accepted.`,
    '- **idle**: RSS growth of the server process over idle streams, read before the first post.',
    '- **CPU**: utime + stime of the server process (the nginx worker for nchan) over the scenario, divided by ' +
      'the events delivered. A scenario starts once the server is quiet.',
    '- **lost / dup / dropped**: events a subscriber never got, events it got twice (by seq), and subscribers ' +
      'whose stream closed or never opened. Every event carries its id.',
    '',
  ];
}

/**
 * Every target of the issue, at every scale it names.
 * @param {Results} r
 * @param {boolean} haveNchan
 * @returns {Target[]}
 */
function targets(r, haveNchan) {
  const L = r.ladders;
  const w = L.wallcast;
  const b = haveNchan ? L.nchan : L.raw;
  const bn = b?.name ?? 'baseline';
  /** @type {Target[]} */
  const list = [];
  for (const n of [...STEADY_SCALES].sort((x, y) => x - y)) {
    const [ws, bs] = [w?.steady[n], b?.steady[n]];
    list.push({
      name: `steady CPU per delivery ≤ 0.9× ${bn} at ${count(n)}`,
      value: ratio(ws?.cpuPerDelivery, bs?.cpuPerDelivery),
      why:
        'One write(2) per stream per event, as nchan makes, and the kernel\'s share ("Where the time goes") is ' +
        "about nchan's for events of the same length. A CPU profile of wallcast over these scenarios " +
        '(`node --cpu-prof`) puts 81% of its busy time in the socket write path and 75% in the native write itself ' +
        "(`writeBuffer`: the write(2) and its C++ glue); wallcast's own code is under 1%. Closing the last 10% " +
        'means fewer writes (the passes join events only when they come close together: the burst) or a cheaper ' +
        "write than Node's public socket API gives (a native addon, io_uring); wallcast uses only public APIs.",
      ok: (x) => x <= 0.9,
      wallcast: [ws],
      others: [[bn, bs]],
    });
  }
  for (const n of [...STEADY_SCALES].sort((x, y) => x - y)) {
    const [ws, bs] = [w?.steady[n], b?.steady[n]];
    list.push({
      name: `steady p99 latency ≤ 1.0× ${bn} at ${count(n)}`,
      value: ratio(ws?.p99, bs?.p99),
      why:
        "A pass writes a wall's streams in slices over several turns, so p99 is about the time of a whole pass: " +
        'streams × CPU per delivery, as for nchan. It follows the CPU per delivery above; compare p50 and max in ' +
        '"Steady": a few milliseconds either way on this shared machine.',
      ok: (x) => x <= 1.0,
      wallcast: [ws],
      others: [[bn, bs]],
    });
  }
  for (const n of [...BURST_SCALES].sort((x, y) => x - y)) {
    const [wb, bb] = [w?.burst[n], b?.burst[n]];
    list.push({
      name: `burst deliveries/s ≥ 2× ${bn} at ${count(n)}`,
      value: ratio(wb?.deliveriesPerSecond, bb?.deliveriesPerSecond),
      why:
        'At 500 streams a pass is short, so fewer posts arrive while it runs and each write carries fewer events ' +
        '(writes/delivery in "Burst"): the burst\'s 8 posters each wait for their answer.',
      ok: (x) => x >= 2,
      wallcast: [wb],
      others: [[bn, bb]],
    });
  }
  const [wi, bi] = [w?.idle[MEMORY_SCALE], b?.idle[MEMORY_SCALE]];
  list.push(
    {
      name: `idle memory per stream ≤ 1.0× ${bn} at ${count(MEMORY_SCALE)}`,
      value: ratio(wi?.bytesPerStream, bi?.bytesPerStream),
      ok: (x) => x <= 1.0,
      wallcast: [],
    },
    {
      name: `idle memory per stream ≤ 8 KB at ${count(MEMORY_SCALE)} (KB)`,
      value: (wi?.bytesPerStream ?? Number.NaN) / 1024,
      why:
        'See "Where an idle stream\'s heap goes": of about 5.4 KB of heap per stream, all but 170 bytes are ' +
        "Node's HTTP objects per connection, and RSS adds their native side. What is left to release would be the " +
        "request and the response objects themselves, which Node's HTTP server keeps for as long as the connection.",
      ok: (x) => x <= 8,
      wallcast: [],
    },
  );
  for (const store of ['sqlite', 'redis']) {
    const s = L[store];
    const ws = w?.steady[PEER_SCALE];
    list.push({
      name: `${store} store: steady CPU per delivery ≤ 1.1× memory store at ${count(PEER_SCALE)}`,
      value: ratio(s?.steady[PEER_SCALE]?.cpuPerDelivery, ws?.cpuPerDelivery),
      why:
        "One event per pass, one write per stream as for the memory store; the difference is the store's " +
        "own work per post (a Redis script and the feed read) spread over the streams, and this machine's noise.",
      ok: (x) => x <= 1.1,
      wallcast: [s?.steady[PEER_SCALE], ws],
    });
    for (const n of [...BURST_SCALES].sort((x, y) => x - y)) {
      list.push({
        name: `${store} store: burst CPU per delivery ≤ 1.1× memory store at ${count(n)}`,
        value: ratio(s?.burst[n]?.cpuPerDelivery, w?.burst[n]?.cpuPerDelivery),
        why:
          store === 'sqlite'
            ? 'The burst is over in half a second, and SQLite commits it with synchronous=FULL: with 8 posters ' +
              "waiting for their answers, a commit holds a few posts, and the kernel's work for each commit's " +
              "fsync is what the memory store does not pay. With the same run's database on tmpfs (no fsync: " +
              '`TMPDIR=/dev/shm node bench/run.mjs --only wallcast,sqlite`) the ratio was 1.00 at 500 and 1.20 at ' +
              '2,000. Closing it means fewer commits per post (more posters in flight, or a longer group-commit ' +
              'window, which every post would wait for) or synchronous=NORMAL; a post is answered only once on disk.'
            : 'A post to Redis takes a script round trip before its answer and comes back through the feed, so the ' +
              "burst's 8 posters, each waiting for its answer, get fewer posts into each pass and each write " +
              'carries fewer events (writes/delivery in "Burst"); the client\'s own work per post (ioredis, the ' +
              'feed read) is the rest (a CPU profile of this scenario shows nothing else). More posters in flight, ' +
              'as real bursts have, close it: the hub joins whatever has arrived.',
        ok: (x) => x <= 1.1,
        wallcast: [s?.burst[n], w?.burst[n]],
      });
    }
  }
  const nchanPosts = r.throughput.nchan;
  for (const store of ['memory', 'sqlite']) {
    const t = r.throughput[store];
    list.push({
      name: `${store} store: posts/s ≥ 1.0× nchan (no subscribers)`,
      value: ratio(postsOf(t), postsOf(nchanPosts)),
      why:
        store === 'sqlite'
          ? "Per post SQLite adds its INSERT (about 8 µs) and a share of the commit, fsync'd with " +
            'synchronous=FULL (about 18 posts share one): about 55 µs of the loop per post against the memory ' +
            "store's 34 µs (a CPU profile of this scenario). nchan's publisher keeps its messages in memory. " +
            'Closing it means synchronous=NORMAL (durable against a crash of the process, not of the machine) or ' +
            'commits on a worker thread; neither is taken, since a post is answered only once it is on disk.'
          : undefined,
      ok: (x) => x >= 1.0,
      wallcast: [],
    });
  }
  if (r.replay) {
    list.push({
      name: `replay storm: all ${count(REPLAY_SUBSCRIBERS)} caught up within 3 s (s)`,
      value: r.replay.seconds,
      ok: (x) => x <= 3,
      wallcast: [r.replay],
    });
  }
  if (full) {
    const s = L['wallcast-largest']?.steady[FULL_SCALE];
    list.push({
      name: `largest wall: steady at ${count(FULL_SCALE)} streams, 0 lost / dup / dropped (faults)`,
      value: faultCount(s),
      ok: (x) => x === 0,
      wallcast: [s],
      digits: 0,
    });
  }
  const every = [...wallcastScenarios(L), ...(r.replay ? [r.replay] : [])];
  list.push({
    name: `every wallcast scenario (${every.length}, all stores): 0 lost, 0 duplicated, 0 dropped (faults)`,
    value: every.reduce((sum, s) => sum + faultCount(s), 0),
    ok: (x) => x === 0,
    wallcast: every,
    digits: 0,
  });
  return list;
}

/** @param {Throughput | undefined} t */
const postsOf = (t) => (t && 'postsPerSecond' in t ? t.postsPerSecond : Number.NaN);
/** @param {Stats | undefined} s */
const faultCount = (s) => (s ? s.lost + s.dups + s.closed : Number.NaN);

/** @param {Record<string, Ladder>} L */
function wallcastScenarios(L) {
  return ['wallcast', 'sqlite', 'redis', 'wallcast-largest'].flatMap((key) => {
    const l = L[key];
    return l ? [...Object.values(l.steady), ...Object.values(l.burst)] : [];
  });
}

/**
 * @param {Target[]} list
 * @param {string} baseName
 */
function targetsSection(list, baseName) {
  const lines = [`## Targets (wallcast / ${baseName} unless named)`, ''];
  lines.push(row(['target', 'measured', 'met', 'lost / dup / dropped']), row(['---', '---:', ':---:', '---']));
  for (const t of list) {
    const wallcastClean = t.wallcast.every(clean);
    const met = Number.isFinite(t.value) && t.ok(t.value) && wallcastClean;
    const faultText = wallcastFaults(t.wallcast);
    const others = (t.others ?? []).map(([name, s]) => `${name} ${faults(s)}`);
    lines.push(
      row([
        t.name,
        fmt(t.value, t.digits ?? 2),
        met ? 'yes' : '**no**',
        [faultText, ...others].filter(Boolean).join('; '),
      ]),
    );
  }
  const missed = list.filter((t) => !(Number.isFinite(t.value) && t.ok(t.value) && t.wallcast.every(clean)));
  const reasons = [...new Set(missed.map((t) => t.why).filter((why) => why !== undefined))];
  if (reasons.length > 0) {
    lines.push('', '### Where a target is missed, and what would close it', '');
    for (const why of reasons) {
      const names = missed.filter((t) => t.why === why).map((t) => t.name);
      lines.push(`- **${names.join('; ')}**: ${why}`);
    }
  }
  lines.push(
    '',
    'A ratio target is met only if the wallcast scenarios behind it lost, duplicated and dropped nothing. ' +
      'Thresholds are the issue\'s ("Lighter than nchan at every scale, on every store, against every peer"), not tuned to this run.',
    '',
  );
  return lines;
}

/**
 * Lost / dup / dropped summed over the wallcast scenarios behind a target.
 * @param {(Stats | undefined)[]} list
 */
function wallcastFaults(list) {
  if (list.length === 0) return '';
  if (list.some((s) => s === undefined)) return 'wallcast n/a (not run)';
  const sum = (/** @type {'lost' | 'dups' | 'closed'} */ k) => list.reduce((n, s) => n + (s?.[k] ?? 0), 0);
  const over = list.length > 1 ? ` over ${list.length} scenarios` : '';
  return `wallcast ${sum('lost')} / ${sum('dups')} / ${sum('closed')}${over}`;
}

/** @param {Record<string, Ladder>} L */
function steadySection(L) {
  const lines = ['## Steady', ''];
  lines.push(
    row([
      'server',
      'streams',
      'CPU µs/delivery',
      'user / kernel µs',
      'p50 / p99 / max ms',
      'bytes/event',
      'client cores',
      'lost / dup / dropped',
    ]),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
  );
  for (const l of Object.values(L)) {
    if (l.error) lines.push(row([l.name, '', `failed: ${l.error}`, '', '', '', '', '']));
    for (const [n, s] of byScale(l.steady)) {
      lines.push(
        row([
          l.name,
          count(n),
          fmt(s.cpuPerDelivery, 2),
          `${fmt(s.userPerDelivery, 2)} / ${fmt(s.sysPerDelivery, 2)}`,
          `${ms(s.p50)} / ${ms(s.p99)} / ${ms(s.max)}`,
          fmt(s.bytes / Math.max(1, s.delivered), 0),
          fmt(s.clientCores, 2),
          faults(s),
        ]),
      );
    }
  }
  lines.push(
    '',
    'bytes/event: what a subscriber received per event. wallcast sends the whole message JSON with its HTML; ' +
      "the peers send the posted text, padded so that their events are about as long as wallcast's (better-sse " +
      'as a JSON string with an event name). client cores: CPU of ' +
      'the one subscriber process (bench/loadgen.mjs) over the scenario; near 1.0 it is saturated, and latency ' +
      'includes its own queueing, for every server alike.',
    '',
  );
  return lines;
}

/** @param {Record<string, Ladder>} L */
function burstSection(L) {
  const lines = ['## Burst', ''];
  lines.push(
    row(['server', 'streams', 'deliveries/s', 'CPU µs/delivery', 'writes/delivery', 'seconds', 'lost / dup / dropped']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:']),
  );
  for (const l of Object.values(L)) {
    for (const [n, s] of byScale(l.burst)) {
      const writes = s.writesPerDelivery === undefined ? 'n/a' : fmt(s.writesPerDelivery, 3);
      const cells = [fmt(s.deliveriesPerSecond, 0), fmt(s.cpuPerDelivery, 2), writes, fmt(s.seconds, 2), faults(s)];
      lines.push(row([l.name, count(n), ...cells]));
    }
  }
  lines.push(
    '',
    "writes/delivery: wallcast's socket writes of live events per event delivered (its /metrics): below 1 when " +
      'events posted while a pass over the wall is under way go out in one write. The peers write once per event.',
    '',
  );
  return lines;
}

/** @param {Record<string, Ladder>} L */
function idleSection(L) {
  const lines = ['## Idle memory', ''];
  lines.push(row(['server', 'streams (open)', 'KB per stream', 'RSS MB']), row(['---', '---:', '---:', '---:']));
  for (const l of Object.values(L)) {
    for (const [n, s] of byScale(l.idle)) {
      lines.push(row([l.name, `${count(n)} (${count(s.open)})`, kb(s.bytesPerStream), fmt(s.rss / 2 ** 20, 0)]));
    }
  }
  // The same process at two scales: the growth between them is what one more stream costs, without the
  // fixed growth of a process that starts serving (a Node heap's young generation, code compiled).
  const [low, high] = [...IDLE_SCALES].sort((x, y) => x - y);
  const added = Object.values(L).flatMap((l) => {
    const [a, b] = [l.idle[low ?? 0], l.idle[high ?? 0]];
    return a && b && high !== low ? [`${l.name} ${kb((b.rss - a.rss) / ((high ?? 0) - (low ?? 0)))} KB`] : [];
  });
  lines.push('');
  if (added.length > 0) {
    lines.push(
      `KB per stream is RSS growth from the process's start over its streams. Per stream added from ` +
        `${count(low ?? 0)} to ${count(high ?? 0)} (the same process; fixed growth left out): ${added.join(', ')}.`,
      '',
    );
  }
  return lines;
}

/**
 * @template T
 * @param {Record<number, T>} record
 * @returns {[number, T][]} largest scale first
 */
const byScale = (record) =>
  Object.entries(record)
    .map(([n, v]) => /** @type {[number, T]} */ ([Number(n), v]))
    .sort((a, b) => b[0] - a[0]);

/**
 * wallcast against each peer at the peers' scale: no threshold, "lighter" says which way it falls.
 * @param {Record<string, Ladder>} L
 * @param {Ladder} w
 */
function peersSection(L, w) {
  const lines = [`## wallcast against every peer (ratios wallcast / peer)`, ''];
  const burstCells = BURST_SCALES.map((n) => `burst deliveries/s at ${count(n)}`);
  lines.push(
    row([
      'peer',
      `steady CPU/delivery at ${count(PEER_SCALE)}`,
      ...burstCells,
      `idle memory/stream at ${count(PEER_SCALE)}`,
      'lighter on all',
    ]),
    row(['---', '---:', ...BURST_SCALES.map(() => '---:'), '---:', ':---:']),
  );
  for (const key of ['nchan', 'raw', 'better-sse', 'hono']) {
    const p = L[key];
    if (!p) continue;
    const cpu = ratio(w.steady[PEER_SCALE]?.cpuPerDelivery, p.steady[PEER_SCALE]?.cpuPerDelivery);
    const bursts = BURST_SCALES.map((n) => ratio(w.burst[n]?.deliveriesPerSecond, p.burst[n]?.deliveriesPerSecond));
    const mem = ratio(w.idle[PEER_SCALE]?.bytesPerStream, p.idle[PEER_SCALE]?.bytesPerStream);
    // Over what was measured: a burst a peer did not run (--full only) neither passes nor fails it.
    const lighter = cpu < 1 && mem < 1 && bursts.every((x) => Number.isNaN(x) || x > 1);
    lines.push(row([p.name, times(cpu), ...bursts.map(times), times(mem), lighter ? 'yes' : '**no**']));
  }
  lines.push(
    '',
    'Lighter: less CPU per delivery and less memory per stream (ratio < 1), more burst deliveries/s (ratio > 1), ' +
      'over the columns measured. n/a: not run in this mode (the Node peers burst at 2,000 in --full only).',
    '',
  );
  return lines;
}

/**
 * The kernel floor: one write per stream per event, as the raw broadcaster and nchan do it.
 * @param {Record<string, Ladder>} L
 * @param {Ladder} w
 */
function floorSection(L, w) {
  const scales = byScale(w.steady).map(([n, s]) => {
    const rawSys = L.raw?.steady[n]?.sysPerDelivery;
    const nchanSys = L.nchan?.steady[n]?.sysPerDelivery;
    const known = [rawSys, nchanSys].filter((x) => x !== undefined);
    const floor = known.length > 0 ? Math.min(...known) : Number.NaN;
    return { n, s, rawSys, nchanSys, floor, floorRatio: ratio(s.sysPerDelivery, floor) };
  });
  const lines = ['## Where the time goes: kernel time against the floor (steady)', ''];
  lines.push(
    row([
      'streams',
      'wallcast user / kernel µs',
      'raw node:http kernel µs',
      'nchan kernel µs',
      'floor µs',
      'wallcast kernel / floor',
    ]),
    row(['---:', '---:', '---:', '---:', '---:', '---:']),
  );
  for (const { n, s, rawSys, nchanSys, floor, floorRatio } of scales) {
    lines.push(
      row([
        count(n),
        `${fmt(s.userPerDelivery, 2)} / ${fmt(s.sysPerDelivery, 2)}`,
        fmt(rawSys ?? Number.NaN, 2),
        fmt(nchanSys ?? Number.NaN, 2),
        fmt(floor, 2),
        times(floorRatio),
      ]),
    );
  }
  const summary = scales.map(({ n, floorRatio }) => `${times(floorRatio)} at ${count(n)}`).join(', ');
  lines.push(
    '',
    `wallcast's kernel time per delivery against the floor: ${summary}. The floor is the lower of the raw broadcaster's ` +
      "and nchan's kernel µs per delivery at the same scale (nchan's alone where the raw broadcaster did not run): both " +
      "make one write(2) per stream per event, which on loopback also runs the receiver's TCP input and wake-up. " +
      'Near 1.0× the kernel time is the syscalls a fan-out cannot avoid; what is left to win is user time, ' +
      'or coalescing events into fewer writes (the burst scenario).',
    '',
  );
  return lines;
}

/**
 * @param {Record<string, Ladder>} L
 * @param {Ladder} w
 */
function storesSection(L, w) {
  const lines = ['## Stores (wallcast, ratios to the memory store)', ''];
  lines.push(
    row(['store', 'scenario', 'CPU µs/delivery', 'ratio to memory', 'p99 ms / deliveries/s', 'lost / dup / dropped']),
    row(['---', '---', '---:', '---:', '---:', '---:']),
  );
  for (const key of ['wallcast', 'sqlite', 'redis']) {
    const l = L[key];
    if (!l) continue;
    if (l.error) lines.push(row([l.name, '', `failed: ${l.error}`, '', '', '']));
    const s = l.steady[PEER_SCALE];
    const m = w.steady[PEER_SCALE];
    if (s)
      lines.push(
        row([
          l.name,
          `steady ${count(PEER_SCALE)}`,
          fmt(s.cpuPerDelivery, 2),
          fmt(ratio(s.cpuPerDelivery, m?.cpuPerDelivery), 2),
          ms(s.p99),
          faults(s),
        ]),
      );
    for (const n of BURST_SCALES) {
      const b = l.burst[n];
      if (b)
        lines.push(
          row([
            l.name,
            `burst ${count(n)}`,
            fmt(b.cpuPerDelivery, 2),
            fmt(ratio(b.cpuPerDelivery, w.burst[n]?.cpuPerDelivery), 2),
            fmt(b.deliveriesPerSecond, 0),
            faults(b),
          ]),
        );
    }
  }
  lines.push(
    '',
    'SQLite commits with synchronous=FULL (group commit); Redis is the local server, keys under a prefix of this run, deleted afterwards.',
    '',
  );
  return lines;
}

/**
 * @param {Ladder | undefined} w
 * @param {Ladder | undefined} nchan
 */
function largestSection(w, nchan) {
  const lines = [`## Largest wall (--full): ${count(FULL_SCALE)} streams on one process`, ''];
  lines.push(
    row(['server', 'open', 'CPU µs/delivery', 'p50 / p99 / max ms', 'KB per stream', 'RSS MB', 'lost / dup / dropped']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:']),
  );
  for (const l of [w, nchan]) {
    const s = l?.steady[FULL_SCALE];
    const i = l?.idle[FULL_SCALE];
    if (!l || !s) continue;
    lines.push(
      row([
        l.name,
        count(i?.open ?? s.sockets - s.closed),
        fmt(s.cpuPerDelivery, 2),
        `${ms(s.p50)} / ${ms(s.p99)} / ${ms(s.max)}`,
        i ? kb(i.bytesPerStream) : 'n/a',
        i ? fmt(i.rss / 2 ** 20, 0) : 'n/a',
        faults(s),
      ]),
    );
  }
  lines.push(
    '',
    'The process limit is 20,000 open files; the client sockets come from many loopback source addresses ' +
      '(bench/loadgen.mjs) so that ephemeral ports never run out. KB per stream: RSS growth over the idle streams, ' +
      'before any post.',
    '',
  );
  return lines;
}

/** @param {Replay} replay */
function replaySection(replay) {
  return [
    '## Replay storm',
    '',
    `${count(replay.open)} of ${count(REPLAY_SUBSCRIBERS)} clients connected at once to wallcast (memory) with a ` +
      `Last-Event-ID ${REPLAY_BEHIND} messages behind: all caught up in ${fmt(replay.seconds, 2)} s, ` +
      `${count(replay.delivered)} events delivered, lost / dup / dropped ${faults(replay)}, ` +
      `${fmt(replay.cpuSeconds, 2)} s of server CPU.`,
    '',
  ];
}

/**
 * @param {Record<string, Throughput>} throughput
 * @param {boolean} haveNchan
 */
function throughputSection(throughput, haveNchan) {
  const names = { raw: 'raw node:http (no store)', nchan: 'nginx + nchan (POST /pub/bench)' };
  const lines = ['## Post throughput (no subscribers)', ''];
  lines.push(
    row(['server / store', 'posts/s', 'ratio to nchan', 'ratio to raw', 'refused']),
    row(['---', '---:', '---:', '---:', '---:']),
  );
  for (const [key, t] of Object.entries(throughput)) {
    const name = /** @type {Record<string, string>} */ (names)[key] ?? `wallcast ${key}`;
    if ('error' in t) {
      lines.push(row([name, `failed: ${t.error}`, '', '', '']));
      continue;
    }
    lines.push(
      row([
        name,
        fmt(t.postsPerSecond, 0),
        haveNchan ? fmt(ratio(t.postsPerSecond, postsOf(throughput.nchan)), 2) : 'n/a',
        fmt(ratio(t.postsPerSecond, postsOf(throughput.raw)), 2),
        count(t.refused),
      ]),
    );
  }
  lines.push(
    '',
    `${THROUGHPUT_POSTERS} concurrent keep-alive posters for ${THROUGHPUT_SECONDS} s; any 2xx counts (nchan answers 202).`,
    '',
  );
  return lines;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
