/**
 * SIGTERM always ends (issue 19, point 4): within the drain deadline and
 * with exit 0, whatever the store is doing — a Redis that never answered
 * since the start, or one that stopped answering while streams were open —
 * and a second signal ends the process at once.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { until, within } from '../support/deadlines.js';
import { OwnRedis } from '../support/own-redis.js';
import { freePort } from '../support/ports.js';
import { MAIN, spawnWallcast, type WallcastProcess } from '../support/process.js';
import { withoutRedis } from '../support/services.js';
import { RawSse } from '../support/sse-reader.js';

/** Well inside what an orchestrator gives before SIGKILL (10 s), and what main.ts promises: drain by 5 s, flush by 6 s. */
const DRAIN_DEADLINE_MS = 7000;

describe.skipIf(await withoutRedis())('SIGTERM whatever the store is doing', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('exits 0 at once when Redis never answered since the start', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, PORT: '0', WALLCAST_STORE: `redis://127.0.0.1:${port}/0`, WALLCAST_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanup.push(() => void child.kill('SIGKILL'));
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await until('the store says Redis does not answer', 10_000, () => output.includes('redis: not answering'));
    child.kill('SIGTERM');
    expect(await within('exit after SIGTERM', DRAIN_DEADLINE_MS, exited)).toBe(0);
  });

  it('drains and exits 0 within the deadline when Redis stops answering mid-run, streams open', async () => {
    const redis = new OwnRedis(await freePort());
    await redis.start();
    cleanup.push(() => redis.kill());
    const server: WallcastProcess = await spawnWallcast({ WALLCAST_STORE: redis.url });
    cleanup.push(() => void server.child.kill('SIGKILL'));
    const streams = Array.from({ length: 3 }, () => new RawSse(`${server.url}/api/walls/cut/events`));
    await until('streams open', 5000, () => streams.every((s) => s.frames.length >= 2));
    // Stopped, not gone: every command waits for an answer that never comes.
    redis.pause();
    cleanup.push(() => redis.resume());
    const started = Date.now();
    server.child.kill('SIGTERM');
    expect(await within('exit after SIGTERM', DRAIN_DEADLINE_MS, server.exited)).toBe(0);
    expect(Date.now() - started).toBeLessThan(DRAIN_DEADLINE_MS);
    for (const stream of streams) expect(stream.closed).toBe(true);
  });

  it('ends at once on a second signal, without waiting for the drain', async () => {
    const redis = new OwnRedis(await freePort());
    await redis.start();
    cleanup.push(() => redis.kill());
    const server = await spawnWallcast({ WALLCAST_STORE: redis.url });
    cleanup.push(() => void server.child.kill('SIGKILL'));
    const stream = new RawSse(`${server.url}/api/walls/twice/events`);
    await until('stream open', 5000, () => stream.frames.length >= 2);
    redis.pause();
    cleanup.push(() => redis.resume());
    server.child.kill('SIGTERM');
    await until('draining', 2000, () => server.output().includes('"msg":"draining"'));
    server.child.kill('SIGTERM');
    expect(await within('exit after the second signal', 1000, server.exited)).toBe(1);
    expect(server.output()).toContain('second signal: exiting now');
  });
});
