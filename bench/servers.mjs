// @ts-check
// The servers under test, each behind one Server interface the scenarios
// drive: wallcast on any store and with any extra environment, nginx + nchan
// with N workers, and the Node peers in bench/ (raw node:http, better-sse,
// Hono). A Server says how to post to it, how to subscribe, how to read an
// event's seq and send time, and which processes its CPU and RSS are read from.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import {
  childrenMeter,
  freePort,
  processMeter,
  startProcess,
  stopChild,
  treeMeter,
  waitForChildren,
  waitForPort,
} from './processes.mjs';

export const NGINX = '/usr/sbin/nginx';
export const NCHAN = '/usr/lib/nginx/modules/ngx_nchan_module.so';
const REDIS_URL = 'redis://127.0.0.1:6379/0';
/**
 * Appended to what the peers are posted, so that every server sends about
 * as many bytes per event: wallcast's frame carries the whole message JSON
 * with its HTML (about 295 bytes), a peer's only the posted text. A write's
 * kernel time grows with its bytes, so without it the peers' writes would
 * be the cheaper ones. The report's bytes/event column shows what each sent.
 */
const PEER_PADDING = ` ${'x'.repeat(255)}`;

/**
 * @typedef {object} Reply
 * @property {number} status
 * @property {string} text
 *
 * @typedef {object} Server
 * @property {string} name as the report's rows name it
 * @property {import('./processes.mjs').Meter} meter the processes whose CPU and memory are measured
 * @property {string} url
 * @property {string} subscribePath
 * @property {string} pattern regex source: the seq and sent-µs groups of one event
 * @property {(agent: http.Agent, body: string) => Promise<Reply>} post
 * @property {() => Promise<void>} stop
 * @property {() => Promise<Counters>} [counters] wallcast's counters so far (one scrape of its /metrics)
 *
 * @typedef {object} Counters
 * @property {number} writes live writes to streams, to count events per write
 * @property {number} passSeconds the sum of the passes' times from a message's post to the pass's last write
 *   (`wallcast_delivery_lag_seconds`: a sample per wall and pass, per worker with workers)
 * @property {number} passes how many passes that sum is of
 *
 * @typedef {'memory' | 'sqlite' | 'redis'} Store
 *
 * @typedef {object} WallcastOptions
 * @property {Store} [store] default memory
 * @property {Record<string, string>} [env] more environment, e.g. `{ WALLCAST_WORKERS: '2' }`
 * @property {Record<string, string>} [query] more subscribe parameters, e.g. `{ presence: 'count' }`
 * @property {string} [label] appended to the name: `wallcast (memory, LABEL)`; default none
 *
 * @typedef {object} NchanOptions
 * @property {number} [workers] nginx's worker_processes; default 1
 * @property {string} [label] appended to the name: `nginx + nchan (LABEL)`; default none
 *
 * @typedef {ReturnType<typeof serversOf>} Servers
 */

/**
 * Node's options for every wallcast process, from BENCH_NODE_ARGS: say,
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` for a CPU profile of each (Node
 * refuses --cpu-prof in NODE_OPTIONS).
 */
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

/**
 * The servers' starters, bound to one run: its children, its temporary
 * directory (SQLite files; nginx gets a prefix of its own, removed on stop)
 * and its id (Redis key prefixes).
 * @param {object} run
 * @param {import('./processes.mjs').Children} run.children
 * @param {string} run.root the repository
 * @param {string} run.tmp a directory of this run, removed afterwards
 * @param {string} run.id unique per run
 */
export function serversOf({ children, root, tmp, id }) {
  let instances = 0;

  /**
   * A wallcast process on its own store: a fresh SQLite file, or a Redis key
   * prefix of this run that `stop` deletes. Measured over its process tree:
   * with workers, all the processes together; without, the one process.
   * @param {WallcastOptions} options
   * @returns {Promise<Server>}
   */
  async function wallcast({ store = 'memory', env = {}, query = {}, label } = {}) {
    const instance = ++instances;
    const name = `wallcast (${store}${label ? `, ${label}` : ''})`;
    const prefix = store === 'redis' ? `wallcast-bench-${id}-${instance}:` : undefined;
    const storeUrl =
      store === 'sqlite'
        ? `sqlite:${join(tmp, `bench-${instance}.db`)}`
        : prefix
          ? `${REDIS_URL}?prefix=${prefix}`
          : 'memory';
    const server = await startProcess(children, name, process.execPath, [...NODE_ARGS, join(root, 'dist/main.js')], {
      PORT: '0',
      WALLCAST_STORE: storeUrl,
      WALLCAST_HISTORY: '1000',
      ...env,
    });
    return {
      name,
      url: server.url,
      meter: treeMeter(server.pid),
      subscribePath: `/api/walls/bench/events?${new URLSearchParams({ backlog: '0', ...query })}`,
      pattern: '"body":"(\\d+):(\\d+)"',
      post: (agent, body) =>
        request(agent, server.url, '/api/walls/bench/messages', JSON.stringify({ body }), 'application/json'),
      counters: async () => {
        const text = await (await fetch(`${server.url}/metrics`)).text();
        const value = (/** @type {string} */ name) =>
          Number(new RegExp(`^${name} ([0-9.e+-]+)`, 'm').exec(text)?.[1] ?? Number.NaN);
        return {
          writes: value('wallcast_stream_writes_total'),
          passSeconds: value('wallcast_delivery_lag_seconds_sum'),
          passes: value('wallcast_delivery_lag_seconds_count'),
        };
      },
      stop: async () => {
        await server.stop();
        if (prefix) await deleteRedisKeys(prefix);
      },
    };
  }

  /**
   * A peer in bench/ with the raw broadcaster's interface: GET /sub, POST /pub.
   * @param {string} name
   * @param {string} file
   * @param {string} pattern
   * @returns {Promise<Server>}
   */
  async function peer(name, file, pattern) {
    const server = await startProcess(children, name, process.execPath, [join(root, 'bench', file)], { PORT: '0' });
    return {
      name,
      url: server.url,
      meter: processMeter(server.pid),
      subscribePath: '/sub',
      pattern,
      post: (agent, body) => request(agent, server.url, '/pub', body + PEER_PADDING, 'text/plain'),
      stop: server.stop,
    };
  }

  /**
   * nginx + nchan from bench/nchan.conf. Measured over its workers, not the
   * master (which only waits for them).
   * @param {NchanOptions} options
   * @returns {Promise<Server>}
   */
  async function nchan({ workers = 1, label } = {}) {
    const prefix = mkdtempSync(join(os.tmpdir(), 'wallcast-nchan-'));
    const port = await freePort();
    const conf = readFileSync(join(root, 'bench/nchan.conf'), 'utf8')
      .replaceAll('PREFIX', prefix)
      .replace('127.0.0.1:PORT', `127.0.0.1:${port}`)
      .replace('worker_processes WORKERS;', `worker_processes ${workers};`);
    writeFileSync(join(prefix, 'nginx.conf'), conf);
    const master = spawn(NGINX, ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off;'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.track(master);
    const masterPid = /** @type {number} */ (master.pid);
    const workerPids = await waitForChildren(masterPid, workers);
    for (const pid of workerPids) children.trackPid(pid);
    await waitForPort(port);
    const url = `http://127.0.0.1:${port}`;
    return {
      name: `nginx + nchan${label ? ` (${label})` : ''}`,
      url,
      meter: childrenMeter(masterPid),
      subscribePath: '/sub/bench',
      pattern: 'data: (\\d+):(\\d+)',
      post: (agent, body) => request(agent, url, '/pub/bench', body + PEER_PADDING, 'text/plain'),
      // SIGTERM: nginx's fast shutdown ends the workers with the master.
      stop: async () => {
        await stopChild(master);
        for (const pid of workerPids) children.forgetPid(pid);
        rmSync(prefix, { recursive: true, force: true });
      },
    };
  }

  return {
    wallcast,
    nchan,
    peer,
    raw: () => peer('raw node:http', 'raw-broadcaster.mjs', 'data: (\\d+):(\\d+)'),
    betterSse: () => peer('better-sse', 'better-sse-server.mjs', 'data: ?"(\\d+):(\\d+)'),
    hono: () => peer('hono streamSSE', 'hono-sse-server.mjs', 'data: (\\d+):(\\d+)'),
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
