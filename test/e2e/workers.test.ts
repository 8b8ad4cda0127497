/**
 * A machine of two workers (WALLCAST_WORKERS=2, issue 20): one sequencer in
 * the primary, streams and HTTP in the workers. Clients resume exactly on
 * whichever worker they land; one rate limit, one metrics scrape; a killed
 * or stopped worker, a killed primary, and SIGTERM.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { until, within } from '../support/deadlines.js';
import { alive, Follower, request, startMachine, workerPids } from '../support/machine.js';
import { spawnWallcast, type WallcastProcess } from '../support/process.js';
import { RawSse } from '../support/sse-reader.js';

const POSTS = 200;

describe('a machine of two workers', () => {
  const machines: WallcastProcess[] = [];
  const followers: Follower[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const follower of followers.splice(0)) follower.stop();
    for (const machine of machines.splice(0)) {
      for (const pid of workerPids(machine)) process.kill(pid, 'SIGCONT');
      machine.child.kill('SIGKILL');
      await machine.exited;
      await until('its workers gone', 5000, () => workerPids(machine).every((pid) => !alive(pid)));
    }
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  const start = async (env: Record<string, string> = {}) => {
    const machine = await startMachine(env);
    machines.push(machine);
    return machine;
  };
  const sqliteStore = () => {
    const dir = mkdtempSync(join(tmpdir(), 'wallcast-workers-'));
    dirs.push(dir);
    return `sqlite:${join(dir, 'wall.db')}`;
  };

  /** Posts POSTS messages one after another, each on a connection of its own (so on each worker in turn). */
  const postAll = async (url: string, wall: string, count = POSTS, prefix = 'm') => {
    const workers = new Set<string>();
    for (let i = 0; i < count; i++) {
      const answer = await request(`${url}/api/walls/${wall}/messages`, { body: { body: `${prefix}${i}` } });
      expect(answer.status).toBe(201);
      workers.add(answer.worker ?? '?');
    }
    return { posted: Array.from({ length: count }, (_, i) => `${prefix}${i}`), workers };
  };

  for (const store of ['memory', 'sqlite'] as const) {
    it(`resumes every client exactly on another worker than before, under steady posts (${store})`, async () => {
      const machine = await start({ WALLCAST_STORE: store === 'memory' ? 'memory' : sqliteStore() });
      // Each client drops its connection every few messages and resumes from its last id.
      for (let i = 0; i < 12; i++)
        followers.push(new Follower(`${machine.url}/api/walls/resume/events?backlog=0`, 7 + i));
      await until('every client live', 10_000, () => followers.every((f) => f.live));
      const { posted, workers } = await postAll(machine.url, 'resume');
      expect([...workers].sort()).toEqual(['0', '1']);
      await until('every client has every post', 20_000, () => followers.every((f) => f.bodies.length >= POSTS));
      await new Promise((resolve) => setTimeout(resolve, 100));
      let moved = 0;
      for (const follower of followers) {
        expect(follower.bodies).toEqual(posted);
        for (let i = 1; i < follower.workers.length; i++) if (follower.workers[i] !== follower.workers[i - 1]) moved++;
      }
      // Resumes that landed on the other worker than the connection before (node:cluster hands connections out in turn).
      expect(moved).toBeGreaterThan(20);
    });
  }

  it('counts the rate limit per client over both workers: the 21st post at 20/min is refused', async () => {
    const machine = await start({ WALLCAST_RATE_LIMIT: '20/min' });
    const answers = [];
    for (let i = 0; i < 21; i++) {
      answers.push(await request(`${machine.url}/api/walls/limit/messages`, { body: { body: `p${i}` } }));
    }
    expect(new Set(answers.map((a) => a.worker))).toEqual(new Set(['0', '1']));
    expect(answers.slice(0, 20).map((a) => a.status)).toEqual(Array(20).fill(201));
    expect(answers[20]?.status).toBe(429);
  });

  it('joins every worker in one scrape of /metrics, and both workers agree the store is ready', async () => {
    const machine = await start();
    for (let i = 0; i < 4; i++) followers.push(new Follower(`${machine.url}/api/walls/scrape/events`));
    await until('four streams live', 5000, () => followers.every((f) => f.live));
    expect(new Set(followers.map((f) => f.workers[0]))).toEqual(new Set(['0', '1']));
    const scrape = await request(`${machine.url}/metrics`);
    expect(scrape.text).toMatch(/^wallcast_subscribers 4$/m);
    expect(scrape.text).toMatch(/^wallcast_store_ready 1$/m);
    for (let i = 0; i < 2; i++) expect((await request(`${machine.url}/readyz`)).status).toBe(200);
  });

  it('replaces a killed worker, and its clients resume exactly on the other', async () => {
    const machine = await start();
    for (let i = 0; i < 8; i++) followers.push(new Follower(`${machine.url}/api/walls/killed/events?backlog=0`));
    await until('every client live', 10_000, () => followers.every((f) => f.live));
    const before = workerPids(machine);
    const first = await postAll(machine.url, 'killed', 50, 'a');
    process.kill(before[0] as number, 'SIGKILL');
    await until('a replacement forked', 10_000, () => {
      const now = workerPids(machine);
      return now.length === 2 && !now.includes(before[0] as number);
    });
    const second = await postAll(machine.url, 'killed', 50, 'b');
    const posted = [...first.posted, ...second.posted];
    await until('every client has every post', 20_000, () => followers.every((f) => f.bodies.length >= 100));
    for (const follower of followers) expect(follower.bodies).toEqual(posted);
    expect(machine.output()).toContain('a worker died: forking its replacement');
  });

  it('bounds what a stopped worker holds up, then resets its streams and they resume exactly', async () => {
    const machine = await start({ WALLCAST_WORKER_QUEUE_BYTES: '65536' });
    for (let i = 0; i < 8; i++) followers.push(new Follower(`${machine.url}/api/walls/stopped/events?backlog=0`));
    await until('every client live', 10_000, () => followers.every((f) => f.live));
    const [stopped] = workerPids(machine) as [number];
    process.kill(stopped, 'SIGSTOP');
    // Half of these land on the stopped worker and wait for it; the others are stored at once.
    const posts = Array.from({ length: 400 }, (_, i) =>
      request(`${machine.url}/api/walls/stopped/messages`, { body: { body: `s${i}` }, timeoutMs: 60_000 }),
    );
    await until('the primary stops feeding the stopped worker', 20_000, () =>
      machine.output().includes('a worker stopped taking events'),
    );
    process.kill(stopped, 'SIGCONT');
    const answers = await within('every post answered', 30_000, Promise.all(posts));
    expect(answers.every((a) => a.status === 201)).toBe(true);
    const stored = await request(`${machine.url}/api/walls/stopped/messages?limit=1000`);
    const order = (JSON.parse(stored.text) as { messages: { body: string }[] }).messages.map((m) => m.body);
    expect(order).toHaveLength(400);
    await until('every client has every post', 20_000, () => followers.every((f) => f.bodies.length >= 400));
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const follower of followers) expect(follower.bodies).toEqual(order);
  });

  it('takes its workers down with it when the primary is killed: nothing is left serving', async () => {
    const machine = await start();
    const pids = workerPids(machine);
    machine.child.kill('SIGKILL');
    await machine.exited;
    await until('every worker exited', 5000, () => pids.every((pid) => !alive(pid)));
    await expect(request(`${machine.url}/healthz`, { timeoutMs: 2000 })).rejects.toThrow();
  });

  it('drains every worker on SIGTERM, exits 0, and lets the next process open the SQLite file', async () => {
    const store = sqliteStore();
    const machine = await start({ WALLCAST_STORE: store });
    const streams = Array.from({ length: 4 }, () => new RawSse(`${machine.url}/api/walls/drain/events`));
    await until(
      'streams on both workers',
      5000,
      () =>
        streams.every((s) => s.frames.length >= 2) &&
        new Set(streams.map((s) => s.headers['wallcast-worker'])).size === 2,
    );
    const started = Date.now();
    machine.child.kill('SIGTERM');
    expect(await within('exit', 12_000, machine.exited)).toBe(0);
    // Told to come back soon (a short retry:), then ended, well before the workers' kill deadline.
    for (const stream of streams) {
      expect(stream.closed).toBe(true);
      expect(stream.frames.filter((f) => f.retry !== undefined)).toHaveLength(2);
    }
    expect(Date.now() - started).toBeLessThan(6000);
    expect(machine.output()).toContain('every worker drained, store flushed and closed');
    machines.splice(machines.indexOf(machine), 1);
    const next = await spawnWallcast({ WALLCAST_STORE: store });
    machines.push(next);
    expect((await request(`${next.url}/readyz`)).status).toBe(200);
  });
});
