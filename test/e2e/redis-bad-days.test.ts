/**
 * Bad days on the Redis store, against real Redis servers: one of the
 * machine's (shared, under a unique prefix) and one of our own, on a free
 * port, that the tests kill, restart (without persistence: it comes back
 * empty) and stall (SIGSTOP).
 */
import { EventSource } from 'eventsource';
import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/message.js';
import type { RunningServer } from '../../src/server.js';
import { until, within } from '../support/deadlines.js';
import { getJson, postJson } from '../support/http.js';
import { OwnRedis } from '../support/own-redis.js';
import { freePort } from '../support/ports.js';
import { deleteRedisPrefix, redisUrl } from '../support/redis.js';
import { startTestServer } from '../support/server.js';
import { withoutRedis } from '../support/services.js';
import { RawSse } from '../support/sse-reader.js';

const post = async (base: string, wall: string, body: string, headers: Record<string, string> = {}) =>
  postJson(base, `/api/walls/${wall}/messages`, { body }, headers);

describe.skipIf(await withoutRedis())('Redis bad days', () => {
  describe('a Redis that restarts empty', () => {
    let redis: OwnRedis;
    let server: RunningServer;
    beforeAll(async () => {
      redis = new OwnRedis(await freePort());
      await redis.start();
      server = await startTestServer({ WALLCAST_STORE: redis.url, WALLCAST_HEARTBEAT_MS: '1000' });
    });
    afterAll(async () => {
      await server?.close();
      await redis?.kill();
    });

    it('answers a cursor from before the loss with reset, never a silent gap, and restarts live streams', async () => {
      const posted: Message[] = [];
      for (let i = 0; i < 10; i++) posted.push((await post(server.url, 'lost', `before ${i}`)).json);
      const seenUpTo = posted[4] as Message;
      // A live client, caught up, resuming by itself through the eventsource package.
      const live: string[] = [];
      const resets: string[] = [];
      const source = new EventSource(`${server.url}/api/walls/lost/events`);
      source.addEventListener('message', (event) => live.push(JSON.parse(event.data).body));
      source.addEventListener('reset', (event) => resets.push(JSON.parse(event.data).reason));
      await until('live', 5000, () => source.readyState === EventSource.OPEN);
      // Its cursor: the eventsource package ignores the id-only head event a fresh stream starts with.
      await post(server.url, 'lost', 'seen live');
      await until('seen live', 5000, () => live.includes('seen live'));

      await redis.kill();
      await redis.start();
      await until('the store answers again', 10_000, async () => (await fetch(`${server.url}/readyz`)).ok);
      const after: Message[] = [];
      for (let i = 0; i < 3; i++) after.push((await post(server.url, 'lost', `after ${i}`)).json);

      const history = await getJson(server.url, `/api/walls/lost/messages?after=${seenUpTo.cursor}`);
      expect(history.json.reset).toBe(true);
      expect(history.json.messages.map((m: Message) => m.body)).toEqual(['after 0', 'after 1', 'after 2']);
      const resumed = new RawSse(`${server.url}/api/walls/lost/events`, { 'Last-Event-ID': seenUpTo.cursor });
      await resumed.waitFor('reset', (s) => s.frames.some((f) => f.event === 'reset'));
      expect(JSON.parse(resumed.frames.find((f) => f.event === 'reset')?.data as string)).toEqual({ reason: 'epoch' });
      await resumed.waitForMessages(3, 'the newest after the reset');
      resumed.close();

      // The live client lost its stream with Redis and came back to a reset, then everything since.
      await until('the live client told of the loss', 15_000, () => resets.length > 0);
      expect(resets).toEqual(['epoch']);
      await until('the live client has the new posts', 10_000, () => live.includes('after 2'));
      expect(live.filter((body) => body.startsWith('after'))).toEqual(['after 0', 'after 1', 'after 2']);
      source.close();
    });

    it('stores a post that a stalled Redis answered with 503 once, when it is retried with its key', async () => {
      const stream = new RawSse(`${server.url}/api/walls/stall/events?backlog=0`);
      await stream.waitFor('open', (s) => s.frames.length >= 2);
      const key = { 'Idempotency-Key': `stall-${nanoid(8)}` };
      redis.pause();
      let stalled: Awaited<ReturnType<typeof post>>;
      try {
        stalled = await within('the stalled post answered', 6000, post(server.url, 'stall', 'exactly once', key));
      } finally {
        redis.resume();
      }
      expect(stalled.status).toBe(503);
      expect(stalled.json.error.message).toMatch(/may have been done.*Idempotency-Key/);
      await until('ready', 10_000, async () => (await fetch(`${server.url}/readyz`)).ok);
      const retry = await post(server.url, 'stall', 'exactly once', key);
      expect(retry.status).toBe(201);
      const stored = (await getJson(server.url, '/api/walls/stall/messages')).json.messages as Message[];
      expect(stored.filter((m) => m.body === 'exactly once')).toHaveLength(1);
      expect(stored.find((m) => m.body === 'exactly once')?.id).toBe(retry.json.id);
      await stream.waitForMessages(1, 'delivered');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(stream.messages().map((m) => m.body)).toEqual(['exactly once']);
      stream.close();
    });
  });

  describe('on the shared Redis', () => {
    const prefix = `wallcast-bad-days-${nanoid(8)}:`;
    let a: RunningServer;
    let b: RunningServer;
    beforeAll(async () => {
      const env = { WALLCAST_STORE: redisUrl(prefix), WALLCAST_RATE_LIMIT: '2/min', WALLCAST_TRUST_PROXY: 'loopback' };
      a = await startTestServer(env);
      b = await startTestServer(env);
    });
    afterAll(async () => {
      await a?.close();
      await b?.close();
      await deleteRedisPrefix(prefix);
    });

    it('answers a cursor no Redis could issue as malformed, on streams and reads alike', async () => {
      await post(a.url, 'ids', 'one');
      for (const cursor of [
        '0-18446744073709551616',
        '0a1b2c3d-18446744073709551616-0',
        '0a1b2c3d-1-99999999999999999999',
      ]) {
        const sse = new RawSse(`${a.url}/api/walls/ids/events`, { 'Last-Event-ID': cursor });
        await sse.waitFor('reset', (s) => s.frames.some((f) => f.event === 'reset'));
        expect(JSON.parse(sse.frames.find((f) => f.event === 'reset')?.data as string)).toEqual({
          reason: 'malformed',
        });
        await sse.waitForMessages(1, 'the newest after the reset');
        sse.close();
        const read = await getJson(a.url, `/api/walls/ids/messages?after=${cursor}`);
        expect(read.status).toBe(200);
        expect(read.json.reset).toBe(true);
      }
    });

    it('shares one post budget per client across the instances', async () => {
      const client = { 'X-Forwarded-For': '192.0.2.77' };
      expect((await post(a.url, 'budget', 'on a', client)).status).toBe(201);
      expect((await post(b.url, 'budget', 'on b', client)).status).toBe(201);
      expect((await post(a.url, 'budget', 'one too many', client)).status).toBe(429);
      expect((await post(b.url, 'budget', 'one too many', client)).status).toBe(429);
      expect((await post(b.url, 'budget', 'another client', { 'X-Forwarded-For': '192.0.2.78' })).status).toBe(201);
    });
  });
});
