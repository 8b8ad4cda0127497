/**
 * Issue 19's failovers under load: a Redis Cluster of the suite's own
 * (3 masters, 3 replicas), three wallcast processes on it behind a real
 * nginx running deploy/nginx.conf, steady posts to 200 walls, and streams
 * on every wall through nginx and straight to each instance.
 *
 * - `CLUSTER FAILOVER` of each master in turn: no post fails, none is
 *   lost or stored twice, every stream has every post of its walls once,
 *   in the wall's order.
 * - SIGKILL of a master with `?wait=1`: posts to its partitions answer 503
 *   until a replica took over and has a replica of its own again (the
 *   killed node, restarted), and a retry with the same Idempotency-Key then
 *   stores each once; every acknowledged post reaches every stream once,
 *   and no stream shows a post the failover lost; `/readyz` answers 503
 *   until the cluster is healthy again.
 */
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/message.js';
import { until, within } from '../support/deadlines.js';
import { getJson, postJson } from '../support/http.js';
import { OwnCluster, withoutRedisServer } from '../support/own-cluster.js';
import { OwnNginx } from '../support/own-nginx.js';
import { freePort } from '../support/ports.js';
import { spawnWallcast, type WallcastProcess } from '../support/process.js';
import { withoutNginx } from '../support/services.js';

/** Walls per stream: the most one stream may follow. */
const STREAM_WALLS = 32;
const POSTERS = 4;
/** Between one poster's posts: about 100 posts a second in all, on a machine the suite shares. */
const POST_PAUSE_MS = 30;
/**
 * What the posts that show a stream is live start with. A stream with no
 * backlog starts at the head it reads when it opens: a post racing that
 * read may be before it, so the posts under test wait until each stream
 * has shown one of these, and are the only ones checked.
 */
const HELLO = 'hello ';

interface Post {
  wall: string;
  key: string;
  body: string;
  /** Every answer's status, in order; 0 for no answer. */
  statuses: number[];
  message?: Message;
}

/** One stream of up to 32 walls (eventsource: it resumes by itself, from its Last-Event-ID). */
class Watcher {
  /** Each wall's message ids as they came, the handshake's left out. */
  readonly seen = new Map<string, string[]>();
  /** Handshake posts seen. */
  readonly hellos = new Set<string>();
  errors = 0;
  readonly source: EventSource;

  constructor(
    base: string,
    readonly walls: string[],
  ) {
    this.source = new EventSource(`${base}/api/events?walls=${walls.join(',')}&backlog=0`);
    this.source.addEventListener('message', (event) => {
      const message = JSON.parse(event.data) as Message;
      if (message.body.startsWith(HELLO)) this.hellos.add(message.body);
      else this.seen.set(message.wall, [...(this.seen.get(message.wall) ?? []), message.id]);
    });
    this.source.addEventListener('error', () => this.errors++);
  }

  count(walls: Set<string>): number {
    let count = 0;
    for (const [wall, ids] of this.seen) if (walls.has(wall)) count += ids.length;
    return count;
  }
}

/** Posts to random walls until `stop`; a post that was not stored is retried with its key until it is. */
async function poster(base: string, walls: string[], name: string, posts: Post[], stop: () => boolean): Promise<void> {
  for (let n = 0; !stop(); n++) {
    const wall = walls[Math.floor(Math.random() * walls.length)] as string;
    const post: Post = { wall, key: `${name}-${n}`, body: `${name} ${n}`, statuses: [] };
    posts.push(post);
    const deadline = Date.now() + 30_000;
    while (post.message === undefined && Date.now() < deadline) {
      const answer = await postJson(
        base,
        `/api/walls/${wall}/messages`,
        { body: post.body },
        { 'Idempotency-Key': post.key },
      ).catch(() => ({ status: 0, json: undefined }));
      post.statuses.push(answer.status);
      if (answer.status === 201) post.message = answer.json as Message;
      else await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await new Promise((resolve) => setTimeout(resolve, POST_PAUSE_MS));
  }
}

describe.skipIf(withoutNginx() || withoutRedisServer())('three instances on a Redis Cluster behind nginx', () => {
  let cluster: OwnCluster;
  let nginx: OwnNginx;
  const ports: number[] = [];
  let instances: WallcastProcess[] = [];
  /** Every stream opened, closed after the suite whatever happened. */
  const opened: Watcher[] = [];

  /** The three instances on the cluster, on the ports nginx knows. */
  async function startInstances(query: string): Promise<void> {
    instances = await Promise.all(
      ports.map((port) =>
        spawnWallcast({ PORT: String(port), WALLCAST_STORE: cluster.url(query), WALLCAST_HEARTBEAT_MS: '1000' }),
      ),
    );
    for (const instance of instances) {
      await until('the instance is ready', 10_000, async () => (await fetch(`${instance.url}/readyz`)).ok);
    }
  }

  async function stopInstances(): Promise<void> {
    for (const instance of instances) instance.child.kill('SIGTERM');
    await within('the instances stopped', 15_000, Promise.all(instances.map((p) => p.exited)));
  }

  beforeAll(async () => {
    cluster = await OwnCluster.start();
    for (let i = 0; i < 3; i++) ports.push(await freePort());
    await startInstances('prefix=failover:');
    nginx = await OwnNginx.start(ports.map((port) => `127.0.0.1:${port}`));
  });

  afterAll(async () => {
    for (const watcher of opened) watcher.source.close();
    await nginx?.stop();
    for (const instance of instances) instance.child.kill('SIGKILL');
    await Promise.all(instances.map((p) => p.exited));
    await cluster?.stop();
  });

  /** Streams on every wall: through nginx, and straight to each instance. */
  async function watch(walls: string[]): Promise<Watcher[]> {
    const watchers: Watcher[] = [];
    for (const base of [nginx.url, ...instances.map((i) => i.url)]) {
      for (let i = 0; i < walls.length; i += STREAM_WALLS)
        watchers.push(new Watcher(base, walls.slice(i, i + STREAM_WALLS)));
    }
    opened.push(...watchers);
    await until('every stream open', 10_000, () => watchers.every((w) => w.source.readyState === EventSource.OPEN));
    for (let i = 0; i < walls.length; i += STREAM_WALLS) {
      const group = watchers.filter((w) => w.walls[0] === walls[i]);
      for (let n = 0; !group.every((w) => w.hellos.size > 0); n++) {
        expect(n, 'hellos posted before every stream of a group showed one').toBeLessThan(20);
        await postJson(nginx.url, `/api/walls/${walls[i]}/messages`, { body: `${HELLO}${n}` });
        await until('a hello shown', 1000, () => group.every((w) => w.hellos.size > 0)).catch(() => {});
      }
    }
    return watchers;
  }

  /**
   * Every post stored once, each wall's history in cursor order, and every
   * stream with exactly its walls' history: nothing lost, nothing twice,
   * nothing the history does not have.
   */
  async function expectEverywhereOnce(walls: string[], posts: Post[], watchers: Watcher[]): Promise<void> {
    expect(posts.every((post) => post.message !== undefined)).toBe(true);
    const histories = new Map<string, string[]>();
    for (const wall of walls) {
      const { json } = await getJson(nginx.url, `/api/walls/${wall}/messages?limit=1000`);
      const messages = (json.messages as Message[]).filter((m) => !m.body.startsWith(HELLO));
      expect(new Set(messages.map((m) => m.body)).size).toBe(messages.length);
      histories.set(
        wall,
        messages.map((m) => m.id),
      );
    }
    const stored = [...histories.values()].flat();
    expect(stored.length).toBe(posts.length);
    expect(new Set(stored)).toEqual(new Set(posts.map((post) => post.message?.id)));
    for (const watcher of watchers) {
      const mine = new Set(new URL(watcher.source.url).searchParams.get('walls')?.split(','));
      const wanted = [...mine].reduce((sum, wall) => sum + (histories.get(wall)?.length ?? 0), 0);
      await until(`a stream has its ${wanted} posts`, 20_000, () => watcher.count(mine) >= wanted).catch(
        (error: Error) => {
          const short = [...mine].filter(
            (wall) => (watcher.seen.get(wall)?.length ?? 0) < (histories.get(wall)?.length ?? 0),
          );
          throw new Error(`${error.message}: ${watcher.source.url} is short on ${short.join(', ')}`);
        },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const watcher of watchers) {
      for (const [wall, ids] of watcher.seen)
        expect(ids, `${wall} on ${watcher.source.url}`).toEqual(histories.get(wall));
      watcher.source.close();
    }
  }

  it('fails over each master in turn under steady posts: no post fails, none is lost or doubled, order kept', async () => {
    const walls = Array.from({ length: 200 }, (_, i) => `manual-${i}`);
    const watchers = await watch(walls);
    const posts: Post[] = [];
    let stopped = false;
    const posting = Promise.all(
      Array.from({ length: POSTERS }, (_, i) => poster(nginx.url, walls, `manual-${i}`, posts, () => stopped)),
    );
    try {
      const masters = (await cluster.masters()).map((m) => m.port);
      for (const master of masters) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        await cluster.failover(master);
        await until('healthy after a failover', 15_000, () => cluster.healthy());
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await cluster.masters()).map((m) => m.port).sort()).not.toEqual([...masters].sort());
    } finally {
      stopped = true;
      await within('the posters stopped', 40_000, posting);
    }
    expect(posts.length).toBeGreaterThan(100);
    expect(posts.filter((post) => post.statuses.some((status) => status !== 201))).toEqual([]);
    await expectEverywhereOnce(walls, posts, watchers);
  }, 90_000);

  it('with ?wait=1, survives a SIGKILLed master: 503 in the gap, each retry stored once, /readyz 503 until healthy', async () => {
    await stopInstances();
    await startInstances('prefix=killed:&wait=1');
    const walls = Array.from({ length: 200 }, (_, i) => `killed-${i}`);
    const watchers = await watch(walls);
    const readiness = instances.map(() => [] as { atMs: number; status: number }[]);
    let stopped = false;
    const probing = Promise.all(
      instances.map(async (instance, i) => {
        while (!stopped) {
          const { status } = await fetch(`${instance.url}/readyz`).catch(() => ({ status: 0 }));
          readiness[i]?.push({ atMs: Date.now(), status });
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }),
    );
    const posts: Post[] = [];
    const posting = Promise.all(
      Array.from({ length: POSTERS }, (_, i) => poster(nginx.url, walls, `killed-${i}`, posts, () => stopped)),
    );
    let killedAtMs = 0;
    let restartedAtMs = 0;
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const victim = (await cluster.masters())[0]?.port as number;
      killedAtMs = Date.now();
      await cluster.node(victim).kill();
      await until('a replica took over', 20_000, async () =>
        (await cluster.masters().catch(() => [{ port: victim }])).every((m) => m.port !== victim),
      );
      // A moment with the new master and no replica for it: still not healthy with ?wait=1.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      restartedAtMs = Date.now();
      await cluster.node(victim).start();
      await until('healthy again', 20_000, () => cluster.healthy());
      for (const [i, instance] of instances.entries()) {
        await until(`instance ${i} ready again`, 10_000, async () => (await fetch(`${instance.url}/readyz`)).ok);
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    } finally {
      stopped = true;
      await within('the posters stopped', 40_000, Promise.all([posting, probing]));
    }
    const refused = posts.filter((post) => post.statuses.includes(503));
    expect(refused.length).toBeGreaterThan(0);
    expect(posts.flatMap((post) => post.statuses).filter((status) => status !== 201 && status !== 503)).toEqual([]);
    for (const samples of readiness) {
      const gap = samples.filter((s) => s.atMs > killedAtMs + 500 && s.atMs < restartedAtMs);
      expect(gap.length).toBeGreaterThan(0);
      expect(gap.filter((s) => s.status !== 503)).toEqual([]);
    }
    await expectEverywhereOnce(walls, posts, watchers);
  }, 90_000);
});
