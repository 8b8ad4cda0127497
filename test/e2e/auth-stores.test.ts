/**
 * The auth contract on every store (issue 16, "Done when"): private reads,
 * token posts with verified authors and anonymous ones, on the memory
 * store, SQLite (a temp file, read again after a restart) and Redis; and
 * tickets shared by two instances on one Redis, issued by one and redeemed
 * by the other.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nanoid } from 'nanoid';
import { afterAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/message.js';
import { type AuthServer, expectRefusal, startAuthServer } from '../support/auth-server.js';
import { deleteRedisPrefix, redisUrl } from '../support/redis.js';
import { withoutRedis } from '../support/services.js';
import { RawSse } from '../support/sse-reader.js';

const SETTINGS = { WALLCAST_PRIVATE_WALLS: 'team-*', WALLCAST_OPEN_WALLS: 'guestbook' };
const dir = mkdtempSync(join(tmpdir(), 'wallcast-auth-stores-'));
const prefixes: string[] = [];
const noRedis = await withoutRedis();

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  for (const prefix of prefixes) await deleteRedisPrefix(prefix);
});

/** A store URL of its own per call: a SQLite file, a Redis prefix. */
const stores: [string, () => string, boolean][] = [
  ['memory', () => 'memory', false],
  ['SQLite', () => `sqlite:${join(dir, `${nanoid(6)}.db`)}`, false],
  [
    'Redis',
    () => {
      const prefix = `wallcast-test-auth-${nanoid(8)}:`;
      prefixes.push(prefix);
      return redisUrl(prefix);
    },
    noRedis,
  ],
];

describe.each(stores)('the auth contract on the %s store', (_name, storeUrl, skip) => {
  it.skipIf(skip)('keeps private walls private, verified authors verified, and anonymous posts anonymous', async () => {
    const url = storeUrl();
    let server: AuthServer = await startAuthServer({ ...SETTINGS, WALLCAST_STORE: url });
    try {
      const ann = await server.token({ name: 'Ann', wallcast: { read: ['team-*'], post: ['team-*'] } });
      const posted = await server.call('/api/walls/team-a/messages', {
        bearer: ann,
        body: { body: 'team only', author: 'Mallory' },
      });
      expect(posted.status, posted.text).toBe(201);
      expect(posted.json).toMatchObject({ author: 'Ann', authorId: 'u42' });
      const guest = await server.call('/api/walls/guestbook/messages', { body: { body: 'hi', author: 'Bob' } });
      expect(guest.json).toMatchObject({ author: 'Bob', authorId: null });
      expectRefusal(await server.call('/api/walls/lobby/messages', { body: { body: 'no grant' } }), {
        status: 401,
        code: 'token_missing',
      });

      const ticket = await server.ticket(ann, ['team-a']);
      const sse = new RawSse(`${server.url}/api/walls/team-a/events?ticket=${ticket}`);
      await sse.waitForMessages(1, 'the private wall on a ticket stream');
      expect(sse.messages<Message>()[0]).toMatchObject({ body: 'team only', authorId: 'u42' });
      sse.close();

      // What a store gives back after a restart: SQLite's file, Redis's keys (memory starts empty).
      if (!url.startsWith('memory')) {
        await server.close();
        server = await startAuthServer({ ...SETTINGS, WALLCAST_STORE: url });
      }
      const anonymous = await server.call('/api/walls/team-a/messages');
      expectRefusal(anonymous, { status: 401, code: 'token_missing' });
      expect(anonymous.text).not.toContain('team only');
      const reader = await server.token({ wallcast: { read: ['team-a'] } });
      const history = await server.call('/api/walls/team-a/messages', { bearer: reader });
      expect(history.json.messages).toHaveLength(1);
      expect(history.json.messages[0]).toMatchObject({ author: 'Ann', authorId: 'u42', body: 'team only' });
      const one = await server.call(`/api/walls/team-a/messages/${posted.json.id}`, { bearer: reader });
      expect(one.json).toMatchObject({ author: 'Ann', authorId: 'u42' });
      const guestbook = await server.call('/api/walls/guestbook/messages');
      expect(guestbook.json.messages[0]).toMatchObject({ author: 'Bob', authorId: null });
    } finally {
      await server.close();
    }
  });
});

describe.skipIf(noRedis)('tickets between two instances sharing one Redis', () => {
  it('redeems on one instance a ticket issued by the other, once', async () => {
    const prefix = `wallcast-test-auth-${nanoid(8)}:`;
    prefixes.push(prefix);
    const env = { ...SETTINGS, WALLCAST_STORE: redisUrl(prefix) };
    const issuer = await startAuthServer(env);
    const redeemer = await startAuthServer(env);
    try {
      const ann = await issuer.token({ name: 'Ann', wallcast: { read: ['team-*'], post: ['team-*'] } });
      redeemer.remember(ann);
      const ticket = await issuer.ticket(ann, ['team-a', 'team-b']);
      redeemer.remember(ticket);
      const sse = new RawSse(`${redeemer.url}/api/events?walls=team-a,team-b&ticket=${ticket}`);
      await sse.waitFor('the stream opened on the other instance', (s) => s.frames.length > 0);
      expect(sse.status).toBe(200);
      const posted = await issuer.call('/api/walls/team-b/messages', { bearer: ann, body: { body: 'via Redis' } });
      expect(posted.status).toBe(201);
      await sse.waitForMessages(1, 'a post on the first instance, live on the second');
      expect(sse.messages<Message>()[0]).toMatchObject({ body: 'via Redis', author: 'Ann', authorId: 'u42' });
      sse.close();
      for (const server of [issuer, redeemer]) {
        const again = await server.call(`/api/events?walls=team-a,team-b&ticket=${ticket}`, {
          headers: { Accept: 'text/event-stream' },
          label: 'the ticket again',
        });
        expectRefusal(again, { status: 401, code: 'ticket_invalid' });
      }
    } finally {
      await issuer.close();
      await redeemer.close();
    }
  });
});
