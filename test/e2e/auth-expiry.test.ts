/**
 * A stream opened with a token is told before the token expires and ends
 * when it does (issue 16, "Streams and expiry"): `event: reauth` with
 * `{"expiresAt"}` 30 s before `exp`, at once when less remains; the client
 * resumes with Last-Event-ID and a fresh token, and nothing is lost or
 * doubled. Tokens here live a few seconds, so that no test waits 30 s: one
 * with `exp` 3 s ahead gets `reauth` at once and ends 3 s later, and one
 * with `exp` 34 s ahead shows the 30 s lead (its reauth comes after ~4 s).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/message.js';
import { type AuthServer, startAuthServer } from '../support/auth-server.js';
import { nowSeconds } from '../support/jwt.js';
import { RawSse, type SseFrame } from '../support/sse-reader.js';

/** How late a timer of the server may fire on a loaded two-core machine, and the test still pass. */
const TIMER_SLACK_MS = 750;

const reauthOf = (frames: SseFrame[]) => frames.find((frame) => frame.event === 'reauth');

/** Posts to `wall` one after another, 25 ms apart, until stopped: the ids stored, in order, and any failures. */
function steadyPosts(server: AuthServer, wall: string, token: string) {
  const posted: string[] = [];
  const failures: string[] = [];
  let posting = true;
  const loop = (async () => {
    for (let n = 0; posting; n++) {
      const answer = await server
        .call(`/api/walls/${wall}/messages`, { bearer: token, body: { body: `post ${n}` }, label: `post ${n}` })
        .catch((error: Error) => ({ status: 0, text: error.message, json: undefined }));
      if (answer.status === 201) posted.push(answer.json.id);
      else failures.push(`post ${n}: ${answer.status} ${answer.text}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
  return {
    posted,
    failures,
    stop: async () => {
      posting = false;
      await loop;
    },
  };
}

describe('a stream opened with a token that expires', () => {
  let server: AuthServer;
  beforeAll(async () => {
    server = await startAuthServer({ WALLCAST_PRIVATE_WALLS: 'team-*' });
  });
  afterAll(() => server?.close());

  const open = (wall: string, bearer: string, lastEventId?: string) =>
    new RawSse(`${server.url}/api/walls/${wall}/events`, {
      Authorization: `Bearer ${bearer}`,
      ...(lastEventId === undefined ? {} : { 'Last-Event-ID': lastEventId }),
    });

  it.concurrent('gets reauth at once, ends at exp, and resumes with a fresh token: nothing lost, nothing doubled', async () => {
    const wall = 'team-expiry';
    const poster = await server.token({ wallcast: { post: [wall] } });
    const steady = steadyPosts(server, wall, poster);
    try {
      const exp = nowSeconds() + 3;
      const expiring = await server.token({ exp, wallcast: { read: [wall] } });
      const first = open(wall, expiring);
      await first.waitFor('reauth at once (less than 30 s remain)', (s) => reauthOf(s.frames) !== undefined, 1500);
      const reauth = reauthOf(first.frames) as SseFrame;
      expect(reauth.id).toBeUndefined();
      expect(JSON.parse(reauth.data ?? '')).toEqual({ expiresAt: new Date(exp * 1000).toISOString() });
      await first.waitFor('the stream ends at exp', (s) => s.closed, 3000 + TIMER_SLACK_MS + 1000).catch(() => {});
      expect(first.closed).toBe(true);
      const endedAt = first.arrivals.at(-1) as number;
      expect(endedAt).toBeGreaterThanOrEqual(exp * 1000 - 50);
      expect(endedAt).toBeLessThan(exp * 1000 + TIMER_SLACK_MS);
      expect(first.frames.at(-1)?.retry).toBe(500);
      const seenFirst = first.messages<Message>().map((m) => m.id);
      expect(seenFirst.length).toBeGreaterThan(0);
      const lastId = first.frames.filter((f) => f.id !== undefined).at(-1)?.id as string;

      const fresh = await server.token({ wallcast: { read: [wall] } });
      const resumed = open(wall, fresh, lastId);
      // Posts go on while the client came back; a few more after it is live.
      await resumed.waitFor('the resumed stream is live and has caught up', (s) => s.messages().length >= 5, 5000);
      await steady.stop();
      await resumed.waitFor(
        'every post on one of the two streams',
        (s) => s.messages<Message>().at(-1)?.id === steady.posted.at(-1),
        5000,
      );
      const seen = [...seenFirst, ...resumed.messages<Message>().map((m) => m.id)];
      expect(seen).toEqual(steady.posted);
      expect(reauthOf(resumed.frames)).toBeUndefined();
      resumed.close();
    } finally {
      await steady.stop();
    }
    expect(steady.failures).toEqual([]);
  });

  it.concurrent('gets reauth 30 s before exp, not at once, when more remains', async () => {
    const exp = nowSeconds() + 34;
    const token = await server.token({ exp, wallcast: { read: ['team-lead'] } });
    const sse = open('team-lead', token);
    const dueAt = exp * 1000 - 30_000;
    await sse.waitFor('reauth 30 s before exp', (s) => reauthOf(s.frames) !== undefined, 5000);
    const at = sse.arrivals[sse.frames.indexOf(reauthOf(sse.frames) as SseFrame)] as number;
    expect(at).toBeGreaterThanOrEqual(dueAt - 50);
    expect(at).toBeLessThan(dueAt + TIMER_SLACK_MS);
    expect(JSON.parse(reauthOf(sse.frames)?.data ?? '')).toEqual({ expiresAt: new Date(exp * 1000).toISOString() });
    expect(sse.closed).toBe(false);
    sse.close();
  });

  it.concurrent('ends at once, with nothing after its end, a stream whose token is just past exp (within the skew)', async () => {
    const wall = 'team-skew';
    const poster = await server.token({ wallcast: { post: [wall] } });
    for (const body of ['one', 'two']) {
      expect((await server.call(`/api/walls/${wall}/messages`, { bearer: poster, body: { body } })).status).toBe(201);
    }
    // Verified (30 s of clock skew are allowed), but past exp by this server's clock.
    const exp = nowSeconds() - 5;
    const stale = await server.token({ exp, iat: exp - 60, wallcast: { read: [wall] } });
    const sse = open(wall, stale);
    await sse.waitFor('the stream ends', (s) => s.closed, 2000).catch(() => {});
    expect(sse.closed).toBe(true);
    expect(sse.status).toBe(200);
    expect(sse.frames.map((f) => f.event ?? (f.retry === undefined ? 'message' : 'retry'))).toEqual([
      'retry',
      'reauth',
      'retry',
    ]);
    expect(sse.frames.at(-1)?.retry).toBe(500);
  });

  it.concurrent('tells a stream opened with a ticket when its token expires, and ends it then', async () => {
    const exp = nowSeconds() + 3;
    const token = await server.token({ exp, wallcast: { read: ['team-ticket'] } });
    const ticket = await server.ticket(token, ['team-ticket']);
    const sse = new RawSse(`${server.url}/api/walls/team-ticket/events?ticket=${ticket}`);
    await sse.waitFor('reauth at once', (s) => reauthOf(s.frames) !== undefined, 1500);
    expect(JSON.parse(reauthOf(sse.frames)?.data ?? '')).toEqual({ expiresAt: new Date(exp * 1000).toISOString() });
    await sse.waitFor('the stream ends at exp', (s) => s.closed, 3000 + TIMER_SLACK_MS + 1000).catch(() => {});
    expect(sse.closed).toBe(true);
    expect(sse.arrivals.at(-1)).toBeGreaterThanOrEqual(exp * 1000 - 50);
  });
});
