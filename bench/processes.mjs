// @ts-check
// Process control for the benchmark: starting a child and reading its
// "listening on" line, stopping it, killing whatever is left if the run ends
// early, and what a process costs, read from /proc: CPU (utime + stime) and
// RSS of one process, of a process tree (a primary and its workers), or of a
// master's children (nginx's workers).
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';

/** /proc/<pid>/stat counts CPU in clock ticks. */
export const TICK_MICROS = 1e6 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
/** A scenario starts once the server used no more than one clock tick in this window (closes, connects, GC)... */
const SETTLE_WINDOW_MS = 300;
/** ...or after this long, so that a busy server cannot stall the run. */
const SETTLE_MAX_MS = 5000;
/** How long a server may take to exit on SIGTERM before it is killed. */
const STOP_GRACE_MS = 3000;
const START_TIMEOUT_MS = 15_000;
/** The server's start-up line; JSON log lines quote the message, so a URL ends at whitespace or a quote. */
const LISTENING = /listening on (https?:\/\/[^\s"]+)/;

export const micros = () => Number(process.hrtime.bigint() / 1000n);
export const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- what a process costs

/**
 * @typedef {{ user: number, sys: number }} CpuTimes µs
 *
 * @typedef {object} Meter what a server costs, over whichever processes it runs in
 * @property {() => CpuTimes} cpu
 * @property {() => number} rss bytes
 */

/** `/proc/<pid>/stat` fields after the command name: utime is [11], stime [12], cutime [13], cstime [14]. */
function statFields(/** @type {number} */ pid) {
  return (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
}

/** utime and stime of a process (all its threads), in µs. */
export function cpuTimes(/** @type {number} */ pid) {
  const fields = statFields(pid);
  return { user: Number(fields[11]) * TICK_MICROS, sys: Number(fields[12]) * TICK_MICROS };
}

export function cpuMicros(/** @type {number} */ pid) {
  const { user, sys } = cpuTimes(pid);
  return user + sys;
}

export function rssBytes(/** @type {number} */ pid) {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1]) * 1024;
}

/**
 * The children of a process: of every one of its threads, since a child
 * belongs to the thread that forked it. (The kernel's children lists may miss
 * a child forked while they are read: a tree read twice in a row is the same
 * unless a process started or ended in between.)
 * @param {number} pid
 * @returns {number[]}
 */
export function childrenOf(pid) {
  /** @type {string[]} */
  let threads;
  try {
    threads = readdirSync(`/proc/${pid}/task`);
  } catch {
    return []; // gone
  }
  return threads.flatMap((tid) => {
    try {
      return readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  });
}

/** `pid` and every live descendant of it. */
export function treeOf(/** @type {number} */ pid) {
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...childrenOf(/** @type {number} */ (tree[i])));
  return tree;
}

/**
 * CPU of a set of processes, each with what its exited children used
 * (cutime, cstime: the kernel adds a child's whole time to its parent once
 * the parent has waited for it). So a worker that exits mid-scenario still
 * counts, once: in its own times while it lives, in its parent's after.
 * A process that ends between two reads is left out of the second.
 * @param {number[]} pids
 * @returns {CpuTimes}
 */
function cpuOfAll(pids) {
  let user = 0;
  let sys = 0;
  for (const pid of pids) {
    try {
      const fields = statFields(pid);
      user += (Number(fields[11]) + Number(fields[13])) * TICK_MICROS;
      sys += (Number(fields[12]) + Number(fields[14])) * TICK_MICROS;
    } catch {}
  }
  return { user, sys };
}

/**
 * CPU the whole machine spent, all cores together (µs): /proc/stat's first
 * line, everything but idle and iowait. Less what the server and the load
 * generator spent, it is what everyone else on a shared machine took.
 */
export function machineBusyMicros() {
  const ticks = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((sum, n) => sum + n, 0);
  return (total - (ticks[3] ?? 0) - (ticks[4] ?? 0)) * TICK_MICROS;
}

/** RSS summed over processes: each one's resident pages, shared libraries counted in each. */
function rssOfAll(/** @type {number[]} */ pids) {
  let bytes = 0;
  for (const pid of pids) {
    try {
      bytes += rssBytes(pid);
    } catch {}
  }
  return bytes;
}

/** One process. */
export const processMeter = (/** @type {number} */ pid) =>
  /** @type {Meter} */ ({
    cpu: () => cpuTimes(pid),
    rss: () => rssBytes(pid),
  });

/**
 * A process and all its descendants, read afresh each time: a primary and
 * the workers it forks or replaces. For a process without children it reads
 * the same as processMeter.
 */
export const treeMeter = (/** @type {number} */ pid) =>
  /** @type {Meter} */ ({
    cpu: () => cpuOfAll(treeOf(pid)),
    rss: () => rssOfAll(treeOf(pid)),
  });

/** A master's children only, not the master: nginx's workers do the work; its master waits. */
export const childrenMeter = (/** @type {number} */ pid) =>
  /** @type {Meter} */ ({
    cpu: () => cpuOfAll(childrenOf(pid)),
    rss: () => rssOfAll(childrenOf(pid)),
  });

/** user + sys, µs. */
export const totalMicros = (/** @type {Meter} */ meter) => {
  const { user, sys } = meter.cpu();
  return user + sys;
};

/** Waits for a server to go quiet, so that a scenario's CPU is its own and not the last one's closes. */
export async function settle(/** @type {Meter} */ meter) {
  const end = Date.now() + SETTLE_MAX_MS;
  let last = totalMicros(meter);
  while (Date.now() < end) {
    await sleep(SETTLE_WINDOW_MS);
    const now = totalMicros(meter);
    if (now - last <= TICK_MICROS) return;
    last = now;
  }
}

// ---------------------------------------------------------------- starting and stopping

/**
 * Every process a run started, so that it can kill them all if the run ends
 * early (`killAll` on exit, wired in run.mjs).
 */
export class Children {
  /** @type {Set<number>} */
  #pids = new Set();

  /** @param {import('node:child_process').ChildProcess} child */
  track(child) {
    if (child.pid === undefined) return;
    const pid = child.pid;
    this.#pids.add(pid);
    child.once('exit', () => this.#pids.delete(pid));
  }

  /** A process this run did not spawn itself but must not leave behind (an nginx worker). */
  trackPid(/** @type {number} */ pid) {
    this.#pids.add(pid);
  }

  forgetPid(/** @type {number} */ pid) {
    this.#pids.delete(pid);
  }

  killAll() {
    for (const pid of this.#pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
  }
}

/**
 * SIGTERM, then SIGKILL after STOP_GRACE_MS; resolves once the process is gone.
 * @param {import('node:child_process').ChildProcess} child
 */
export async function stopChild(child) {
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
 * Starts a server process and resolves once it says where it listens.
 * @param {Children} children
 * @param {string} name
 * @param {string} command
 * @param {string[]} args
 * @param {Record<string, string>} env added to this process's environment
 */
export async function startProcess(children, name, command, args, env = {}) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.track(child);
  const url = await listeningUrl(child, name);
  return { pid: /** @type {number} */ (child.pid), url, stop: () => stopChild(child) };
}

/**
 * The children of a master once there are `count` of them (nginx's workers).
 * @param {number} masterPid
 * @param {number} count
 */
export async function waitForChildren(masterPid, count) {
  for (let i = 0; i < 100; i++) {
    await sleep(50);
    const pids = childrenOf(masterPid);
    if (pids.length >= count) return pids;
  }
  throw new Error(`process ${masterPid} started fewer than ${count} children`);
}

/** Resolves once something accepts connections on the port (nginx prints nothing when it is ready). */
export async function waitForPort(/** @type {number} */ port) {
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
export async function freePort() {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const { port } = /** @type {net.AddressInfo} */ (server.address());
  await new Promise((resolve) => server.close(resolve));
  return port;
}
