import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { within } from '../support/deadlines.js';
import { postJson } from '../support/http.js';
import { MAIN, spawnWallcast } from '../support/process.js';
import { RawSse } from '../support/sse-reader.js';

describe('the wallcast process', () => {
  it('stops at start with one line naming the bad variable and a non-zero exit', () => {
    const bad = [
      [{ WALLCAST_HISTORY: 'many' }, 'WALLCAST_HISTORY'],
      [{ PORT: '99999' }, 'PORT'],
      [{ WALLCAST_STORE: 'postgres://x' }, 'WALLCAST_STORE'],
    ] as const;
    for (const [env, variable] of bad) {
      const run = spawnSync(process.execPath, [MAIN], { env: { ...process.env, ...env }, encoding: 'utf8' });
      expect(run.status).not.toBe(0);
      const lines = run.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^wallcast: ${variable}=`));
    }
    const flag = spawnSync(process.execPath, [MAIN, '--history', 'x'], { encoding: 'utf8' });
    expect(flag.status).not.toBe(0);
    expect(flag.stderr.trim()).toMatch(/^wallcast: WALLCAST_HISTORY="x"/);
  });

  it('answers --help with every setting and --version with the version, and warns of unknown variables', async () => {
    const help = spawnSync(process.execPath, [MAIN, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    for (const variable of ['PORT', 'WALLCAST_STORE', 'WALLCAST_MAX_WALLS', 'WALLCAST_SEND_TIMEOUT_MS']) {
      expect(help.stdout).toContain(variable);
    }
    expect(help.stdout).toContain('default: sqlite:data/wallcast.db');
    expect(spawnSync(process.execPath, [MAIN, '-h'], { encoding: 'utf8' }).stdout).toBe(help.stdout);
    const version = spawnSync(process.execPath, [MAIN, '--version'], { encoding: 'utf8' });
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const typo = await spawnWallcast({ WALLCAST_STORE: 'memory', WALLCAST_HISTOR: '10' });
    typo.child.kill('SIGTERM');
    await typo.exited;
    expect(typo.output()).toMatch(/"level":"warn".*"variables":\["WALLCAST_HISTOR"\]/);
  });

  it('logs the port it chose, serves, and on SIGTERM sends streams away and exits 0', async () => {
    const proc = await spawnWallcast({ WALLCAST_STORE: 'memory' });
    expect(proc.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(proc.url).not.toMatch(/:0$/);
    const sse = new RawSse(`${proc.url}/api/events`);
    await sse.waitFor('open', (s) => s.frames.length >= 2);
    await postJson(proc.url, '/api/messages', { body: 'before shutdown' });
    await sse.waitForMessages(1, 'message');
    proc.child.kill('SIGTERM');
    await sse.waitFor('stream ended by the server', (s) => s.closed || false, 6000).catch(() => {});
    expect(sse.closed).toBe(true);
    const retries = sse.frames.filter((f) => f.retry !== undefined);
    expect(retries).toHaveLength(2);
    expect(retries[1]?.retry).toBeLessThan(1000);
    expect(await within('exit after SIGTERM', 8000, proc.exited)).toBe(0);
  });
});
