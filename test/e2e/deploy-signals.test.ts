/**
 * The server under npm ends when npm is told to end (issue 19): `npx
 * wallcast` and `npm start` run it as npm → sh → node, and npm's SIGTERM
 * reaches the shell, never node (src/parent-watch.ts). Real npm, real
 * processes; the server is found by its pid in npm's process tree (Linux's
 * /proc), and must be gone within the drain deadline with its port closed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PARENT_CHECK_MS } from '../../src/parent-watch.js';
import { until, within } from '../support/deadlines.js';

const ROOT = new URL('../..', import.meta.url).pathname;
/** server.ts's SHUTDOWN_DEADLINE_MS: streams and requests still open then are cut. */
const DRAIN_DEADLINE_MS = 5000;
/** The parent noticed gone, the drain, and a busy machine's slack. */
const EXIT_DEADLINE_MS = PARENT_CHECK_MS + DRAIN_DEADLINE_MS + 2000;

const dir = mkdtempSync(join(tmpdir(), 'wallcast-npm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** pid → [parent pid, state] for every process now, from /proc. */
function processTable(): Map<number, { ppid: number; state: string }> {
  const table = new Map<number, { ppid: number; state: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
      const [state = '', ppid = '0'] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(entry), { ppid: Number(ppid), state });
    } catch {
      // Gone between the listing and the read.
    }
  }
  return table;
}
function descendants(pid: number): number[] {
  const table = processTable();
  const found: number[] = [];
  const visit = (parent: number) => {
    for (const [child, { ppid }] of table) {
      if (ppid === parent) {
        found.push(child);
        visit(child);
      }
    }
  };
  visit(pid);
  return found;
}
const commandLine = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
};
/** Running: present and not a zombie waiting for a parent to reap it. */
const running = (pid: number) => {
  const state = processTable().get(pid)?.state;
  return state !== undefined && state !== 'Z';
};
const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

interface UnderNpm {
  npm: ChildProcess;
  npmExited: Promise<unknown>;
  server: number;
  port: number;
  output: () => string;
}

/**
 * Runs `npm …args` in `cwd` in a process group of its own (as a terminal
 * would), waits for the server's "listening on" line, and finds the server
 * among npm's descendants.
 */
async function underNpm(cwd: string, args: string[]): Promise<UnderNpm> {
  const npm = spawn('npm', args, {
    cwd,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PORT: '0',
      WALLCAST_STORE: 'memory',
      WALLCAST_LOG_LEVEL: 'info',
      // npm exec links the package into its cache: a cache of this test's own.
      npm_config_cache: join(dir, 'npm-cache'),
      npm_config_update_notifier: 'false',
    },
  });
  const npmExited = new Promise((resolve) => npm.once('exit', resolve));
  let output = '';
  npm.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  npm.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  try {
    await until('the server logs its URL under npm', 60_000, () => /listening on http:\/\/[^:]+:\d+/.test(output));
  } catch (error) {
    process.kill(-(npm.pid as number), 'SIGKILL');
    throw new Error(`${(error as Error).message}: ${output}`);
  }
  const port = Number(/listening on http:\/\/[^:]+:(\d+)/.exec(output)?.[1]);
  const server = descendants(npm.pid as number).find((pid) => {
    const script = commandLine(pid)[1] ?? '';
    return script.endsWith('dist/main.js') || script.endsWith('.bin/wallcast');
  });
  if (server === undefined) throw new Error(`no server among npm's processes: ${output}`);
  return { npm, npmExited, server, port, output: () => output };
}

/** Sends `signal` to npm alone (or its whole group), then expects the server gone and its port closed. */
async function expectServerEnds(run: UnderNpm, signal: NodeJS.Signals, to: 'npm' | 'group'): Promise<void> {
  try {
    expect(await portOpen(run.port)).toBe(true);
    const npmPid = run.npm.pid as number;
    process.kill(to === 'npm' ? npmPid : -npmPid, signal);
    await until(
      `the server (pid ${run.server}) exits after ${signal} to ${to}`,
      EXIT_DEADLINE_MS,
      () => !running(run.server),
    );
    expect(await portOpen(run.port)).toBe(false);
    expect(run.output()).toContain('shutdown: connections closed, store flushed and closed');
    await within('npm exits', 5000, run.npmExited);
    expect(descendants(npmPid).filter(running)).toEqual([]);
  } finally {
    // Whatever is left of this run, by its group (npm's pid), or the orphaned server by its pid.
    for (const pid of [-(run.npm.pid as number), run.server]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}

describe.skipIf(process.platform !== 'linux')('the server under npm', { timeout: 120_000 }, () => {
  it('ends when npx wallcast (npm exec) gets SIGTERM, though npm does not pass it on', async () => {
    const run = await underNpm(ROOT, ['exec', '--', 'wallcast']);
    // npm → sh -c wallcast → node: the shell between them is why the signal never arrives.
    expect(descendants(run.npm.pid as number).map((pid) => commandLine(pid)[0])).toContain('sh');
    await expectServerEnds(run, 'SIGTERM', 'npm');
    expect(run.output()).toMatch(/"signal":"parent \d+ exited"/);
  });

  it('drains on Ctrl-C at a terminal (SIGINT to the whole group) under npx', async () => {
    const run = await underNpm(ROOT, ['exec', '--', 'wallcast']);
    await expectServerEnds(run, 'SIGINT', 'group');
    expect(run.output()).toContain('"signal":"SIGINT"');
  });

  it('ends when npm start gets SIGTERM', async () => {
    // A copy of the package, so that whatever `npm start` compiles is not the dist/ other tests run.
    const copy = join(dir, 'package');
    for (const part of ['package.json', 'tsconfig.json', 'src', 'scripts', 'dist']) {
      if (existsSync(join(ROOT, part)))
        cpSync(join(ROOT, part), join(copy, part), { recursive: true, preserveTimestamps: true });
    }
    for (const part of ['node_modules', 'public', 'client', 'docs'])
      symlinkSync(realpathSync(join(ROOT, part)), join(copy, part));
    const run = await underNpm(copy, ['start']);
    await expectServerEnds(run, 'SIGTERM', 'npm');
  });
});
