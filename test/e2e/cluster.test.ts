/**
 * Three wallcast processes on one Redis behind a real nginx running
 * deploy/nginx.conf: one wall across instances, then one instance killed.
 * (On a Redis Cluster: redis-cluster-failover.test.ts.)
 */
import { spawn } from 'node:child_process';
import { EventSource } from 'eventsource';
import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/message.js';
import { until, within } from '../support/deadlines.js';
import { getJson, postJson } from '../support/http.js';
import { OwnNginx } from '../support/own-nginx.js';
import { spawnWallcast, type WallcastProcess } from '../support/process.js';
import { deleteRedisPrefix, redisUrl } from '../support/redis.js';
import { withoutNginx, withoutRedis } from '../support/services.js';
import { RawSse } from '../support/sse-reader.js';

describe.skipIf(withoutNginx() || (await withoutRedis()))('three instances on Redis behind nginx', () => {
  const prefix = `wallcast-cluster-${nanoid(8)}:`;
  let instances: WallcastProcess[] = [];
  let nginx: OwnNginx;
  let lb: string;

  beforeAll(async () => {
    const env = { WALLCAST_STORE: redisUrl(prefix), WALLCAST_HEARTBEAT_MS: '1000' };
    instances = await Promise.all([0, 1, 2].map(() => spawnWallcast(env)));
    nginx = await OwnNginx.start(instances.map((p) => new URL(p.url).host));
    lb = nginx.url;
  });

  afterAll(async () => {
    await nginx?.stop();
    for (const p of instances) p.child.kill('SIGKILL');
    await Promise.all(instances.map((p) => p.exited));
    await deleteRedisPrefix(prefix);
  });

  it('gives every subscriber, through nginx or direct, every post once in one order', async () => {
    const viaLb = Array.from({ length: 9 }, () => new RawSse(`${lb}/api/walls/one/events?backlog=0`));
    const direct = instances.map((p) => new RawSse(`${p.url}/api/walls/one/events?backlog=0`));
    const all = [...viaLb, ...direct];
    for (const s of all) await s.waitFor('open', (x) => x.frames.length >= 2);
    const targets = [lb, ...instances.map((p) => p.url)];
    await Promise.all(
      targets.map(async (target) => {
        for (let i = 0; i < 25; i++) {
          const { status } = await postJson(target, '/api/walls/one/messages', { body: `${target} ${i}` });
          expect(status).toBe(201);
        }
      }),
    );
    for (const s of all) await s.waitForMessages(100, 'all 100 posts');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stored = (await getJson(lb, '/api/walls/one/messages?limit=100')).json.messages.map((m: Message) => m.id);
    expect(new Set(stored).size).toBe(100);
    for (const s of all) expect(s.messages().map((m) => m.id)).toEqual(stored);
    for (const s of all) s.close();
  });

  it('moves the clients of a killed instance to the others with no loss and no duplicate', async () => {
    const clients = Array.from({ length: 9 }, () => {
      const seen: string[] = [];
      const source = new EventSource(`${lb}/api/walls/kill/events`);
      source.addEventListener('message', (event) => seen.push(JSON.parse(event.data).id));
      return { source, seen };
    });
    await until('all clients open', 5000, () => clients.every((c) => c.source.readyState === EventSource.OPEN));
    const first = await postJson(lb, '/api/walls/kill/messages', { body: 'before the kill' });
    await until('everyone has the first message', 5000, () => clients.every((c) => c.seen.length === 1));
    expect(first.status).toBe(201);

    const victim = instances[0] as WallcastProcess;
    const victimMetrics = await (await fetch(`${victim.url}/metrics`)).text();
    const onVictim = Number(/^wallcast_subscribers (\d+)$/m.exec(victimMetrics)?.[1]);
    expect(onVictim).toBeGreaterThanOrEqual(1);
    victim.child.kill('SIGKILL');
    await within('victim dead', 5000, victim.exited);
    for (let i = 0; i < 30; i++) {
      const { status } = await postJson(lb, '/api/walls/kill/messages', { body: `after the kill ${i}` });
      expect(status).toBe(201);
    }
    const stored = (await getJson(lb, '/api/walls/kill/messages?limit=100')).json.messages.map((m: Message) => m.id);
    expect(stored).toHaveLength(31);
    await until('every client caught up', 15_000, () => clients.every((c) => c.seen.length >= 31));
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const c of clients) {
      expect(c.seen).toEqual(stored);
      c.source.close();
    }
  });

  it('serves the same wall over HTTPS with HTTP/2 through nginx, to curl --http2 -N', async () => {
    const tls = nginx.tlsUrl;
    const curl = spawn('curl', ['-skN', '--http2', '-v', `${tls}/api/walls/tls/events?backlog=0`]);
    let out = '';
    let log = '';
    curl.stdout.on('data', (chunk) => {
      out += chunk;
    });
    curl.stderr.on('data', (chunk) => {
      log += chunk;
    });
    try {
      await until('the stream opened through nginx over HTTP/2', 10_000, () => out.includes('retry:'));
      const posted = await postJson(lb, '/api/walls/tls/messages', { body: 'via plain HTTP, seen over HTTP/2' });
      await until('the post arrived over HTTP/2', 10_000, () => out.includes('seen over HTTP/2'));
      expect(out).toContain(`id: ${posted.json.cursor}\n`);
      expect(log).toMatch(/< HTTP\/2 200/);
    } finally {
      curl.kill();
    }
  });
});
