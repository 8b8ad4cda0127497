/**
 * Bad days for a real process: clients that leave mid-post, storage that
 * cannot be opened or fills up, a second process on the same file, a
 * secret left empty. Each ends in one clear line or a clean 503, never a
 * hang, a stack trace or a silent failure.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until, within } from '../support/deadlines.js';
import { postJson } from '../support/http.js';
import { MAIN, spawnWallcast } from '../support/process.js';

/** Runs wallcast to its exit (it must exit by itself) and returns its status and output lines. */
function runToExit(env: Record<string, string>): { status: number | null; lines: string[]; ms: number } {
  const started = Date.now();
  const run = spawnSync(process.execPath, [MAIN], {
    env: { ...process.env, PORT: '0', ...env },
    encoding: 'utf8',
    timeout: 10_000,
  });
  const lines = `${run.stdout}${run.stderr}`.trim().split('\n').filter(Boolean);
  return { status: run.status, lines, ms: Date.now() - started };
}

/** A small tmpfs of our own (root only): a real full disk, a real read-only file system. */
function mountTmpfs(dir: string, options: string): boolean {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const canMount = (() => {
  const probe = mkdtempSync(join(tmpdir(), 'wallcast-mount-'));
  const ok = mountTmpfs(probe, 'size=64k');
  if (ok) execFileSync('umount', [probe]);
  rmSync(probe, { recursive: true, force: true });
  if (!ok && !process.env.CI) console.warn('skipping the full-disk and read-only tests: tmpfs needs root');
  return ok || Boolean(process.env.CI);
})();

describe('clients that leave mid-post', () => {
  it('are not errors: 200 aborted posts log nothing above info', async () => {
    const proc = await spawnWallcast({ WALLCAST_STORE: 'memory' });
    try {
      const port = Number(new URL(proc.url).port);
      const abort = () =>
        new Promise<void>((resolve) => {
          const socket = net.connect(port, '127.0.0.1', () => {
            socket.write(
              'POST /api/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"body":"cut',
            );
            setTimeout(() => socket.destroy(), 5);
          });
          socket.on('error', () => {});
          socket.on('close', () => resolve());
        });
      for (let i = 0; i < 200; i += 20) await Promise.all(Array.from({ length: 20 }, abort));
      expect((await postJson(proc.url, '/api/messages', { body: 'still serving' })).status).toBe(201);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const loud = proc
        .output()
        .split('\n')
        .filter((line) => /"level":"(warn|error|fatal)"/.test(line) || / at .*:\d+:\d+/.test(line));
      expect(loud).toEqual([]);
    } finally {
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
  });
});

describe('storage that cannot be used at start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wallcast-start-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names WALLCAST_STORE and the path in one line when the directory cannot be created', () => {
    for (const path of ['/proc/wallcast-x/wall.db', '/etc/hostname/wall.db']) {
      const run = runToExit({ WALLCAST_STORE: `sqlite:${path}` });
      expect(run.status, path).not.toBe(0);
      expect(run.ms, path).toBeLessThan(5000);
      expect(run.lines, path).toHaveLength(1);
      expect(run.lines[0]).toMatch(new RegExp(`^wallcast: WALLCAST_STORE=sqlite:${path}: .*${path.split('/')[1]}`));
    }
  });

  it('names a file that is not a database', () => {
    const path = join(dir, 'garbage.db');
    writeFileSync(path, 'this is not a database '.repeat(200));
    const run = runToExit({ WALLCAST_STORE: `sqlite:${path}` });
    expect(run.status).not.toBe(0);
    expect(run.lines).toHaveLength(1);
    expect(run.lines[0]).toContain(`WALLCAST_STORE=sqlite:${path}: ${path} is not a wallcast database`);
  });

  it('refuses, in one line, to start a second process on the same database file', async () => {
    const path = join(dir, 'shared.db');
    const first = await spawnWallcast({ WALLCAST_STORE: `sqlite:${path}` });
    try {
      const second = runToExit({ WALLCAST_STORE: `sqlite:${path}` });
      expect(second.status).not.toBe(0);
      expect(second.lines).toEqual([
        `wallcast: WALLCAST_STORE=sqlite:${path}: ${path} is in use by another wallcast process (one process per database file)`,
      ]);
      expect((await postJson(first.url, '/api/messages', { body: 'the first still posts' })).status).toBe(201);
    } finally {
      first.child.kill('SIGKILL');
      await first.exited;
    }
    // A killed process leaves no lock behind.
    const third = await spawnWallcast({ WALLCAST_STORE: `sqlite:${path}` });
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
  });

  it('refuses an empty secret instead of leaving posting open', () => {
    for (const variable of ['WALLCAST_PUBLISH_TOKEN', 'WALLCAST_ADMIN_TOKEN']) {
      const run = runToExit({ WALLCAST_STORE: 'memory', [variable]: '' });
      expect(run.status).toBe(2);
      expect(run.lines).toEqual([`wallcast: ${variable} is set but empty: give it a value, or unset it`]);
    }
  });

  it.skipIf(!canMount)('names a read-only database', () => {
    const mount = join(dir, 'ro');
    expect(mountTmpfs(mount, 'size=1m')).toBe(true);
    try {
      writeFileSync(join(mount, 'wall.db'), '');
      execFileSync('mount', ['-o', 'remount,ro', mount]);
      const run = runToExit({ WALLCAST_STORE: `sqlite:${join(mount, 'wall.db')}` });
      expect(run.status).not.toBe(0);
      expect(run.lines).toHaveLength(1);
      expect(run.lines[0]).toMatch(/^wallcast: WALLCAST_STORE=sqlite:.*wall\.db: cannot write to .*(read-only|EROFS)/);
    } finally {
      execFileSync('umount', [mount]);
    }
  });
});

describe.skipIf(!canMount)('a full disk under SQLite', () => {
  const mount = mkdtempSync(join(tmpdir(), 'wallcast-full-'));
  beforeAll(() => {
    expect(mountTmpfs(mount, 'size=2m')).toBe(true);
  });
  afterAll(() => {
    execFileSync('umount', ['-l', mount]);
    rmSync(mount, { recursive: true, force: true });
  });

  it('answers posts 503 and /readyz 503 while full, and both recover when space is back', async () => {
    const proc = await spawnWallcast({ WALLCAST_STORE: `sqlite:${join(mount, 'wall.db')}` });
    try {
      expect((await postJson(proc.url, '/api/messages', { body: 'before' })).status).toBe(201);
      // Fill what is left of the file system.
      spawnSync('dd', ['if=/dev/zero', `of=${join(mount, 'filler')}`, 'bs=64k'], { stdio: 'ignore' });
      const body = 'x'.repeat(1900);
      let status = 201;
      for (let i = 0; i < 200 && status === 201; i++) {
        status = (await postJson(proc.url, '/api/messages', { body: `${i} ${body}` })).status;
      }
      expect(status).toBe(503);
      const refused = await postJson(proc.url, '/api/messages', { body: 'while full' });
      expect(refused.status).toBe(503);
      expect(refused.json.error.code).toBe('unavailable');
      expect((await fetch(`${proc.url}/readyz`)).status).toBe(503);
      rmSync(join(mount, 'filler'));
      await within(
        'ready again',
        5000,
        until('ready again', 5000, async () => (await fetch(`${proc.url}/readyz`)).status === 200),
      );
      expect((await postJson(proc.url, '/api/messages', { body: 'after' })).status).toBe(201);
    } finally {
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
  });
});
