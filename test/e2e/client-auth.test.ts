/**
 * The client with signed tokens (issue 16), in Node on real sockets: a real
 * server with a token key and private walls, tokens signed by jose, the
 * `eventsource` package's EventSource (recording every request it makes and
 * every event it reads, so the wire itself shows what was sent twice and
 * which ticket was used twice), and for a refused ticket two real servers
 * behind a real proxy.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Message, type StreamState, type Subscription, WallcastClient, WallcastError } from 'wallcast/client';
import type { RunningServer } from '../../src/server.js';
import { until, within } from '../support/deadlines.js';
import { claims, nowSeconds, secretText, signHmac } from '../support/jwt.js';
import { startTestServer } from '../support/server.js';

const SECRET = secretText();
const AUTH_ENV = { WALLCAST_JWT_SECRET: SECRET, WALLCAST_PRIVATE_WALLS: 'team-*' };

/** Ann's token, living `ttlSeconds` (negative: expired that long ago), signed with `secret`. */
function annToken(ttlSeconds: number, grants: Record<string, string[]> = {}, secret = SECRET): Promise<string> {
  const wallcast = { read: ['team-*'], post: ['team-*'], ...grants };
  return signHmac(claims({ name: 'Ann', exp: nowSeconds() + ttlSeconds, wallcast }), secret);
}

/** A `getToken` that counts its calls; `make` gives each token (or throws). */
function tokenSource(make: (call: number) => Promise<string>) {
  const source = {
    calls: 0,
    getToken: () => make(++source.calls),
  };
  return source;
}

/**
 * The `eventsource` package's EventSource, recording every request it
 * makes (its own reconnects too), every message id and every `reauth` it
 * reads off the wire, whatever the client then does with them.
 */
function wire() {
  const seen = { urls: [] as string[], statuses: [] as number[], messageIds: [] as string[], reauths: [] as string[] };
  class RecordingEventSource extends EventSource {
    constructor(url: string) {
      super(url, {
        fetch: async (input, init) => {
          seen.urls.push(String(input));
          const response = await fetch(input, init);
          seen.statuses.push(response.status);
          return response;
        },
      });
      this.addEventListener('message', (event) => seen.messageIds.push((JSON.parse(event.data) as Message).id));
      this.addEventListener('reauth', (event) => seen.reauths.push(event.data));
    }
  }
  const tickets = () => seen.urls.map((url) => new URL(url).searchParams.get('ticket'));
  return { EventSource: RecordingEventSource, seen, tickets };
}

/** What a subscription heard. */
function recorder() {
  const seen = { messages: [] as Message[], states: [] as StreamState[], errors: [] as WallcastError[] };
  const handlers = {
    onMessage: (message: Message) => seen.messages.push(message),
    onState: (state: StreamState) => seen.states.push(state),
    onError: (error: WallcastError) => seen.errors.push(error),
  };
  return { seen, handlers };
}

describe('the client with a token', () => {
  let server: RunningServer;
  const subscriptions: Subscription[] = [];

  beforeAll(async () => {
    server = await startTestServer(AUTH_ENV);
  });
  afterAll(async () => {
    for (const subscription of subscriptions) subscription.close();
    await server?.close();
  });

  const follow = (client: WallcastClient, ...args: Parameters<WallcastClient['subscribe']>) => {
    const subscription = client.subscribe(...args);
    subscriptions.push(subscription);
    return subscription;
  };

  it('streams a private wall through a ticket, and posts, reads and deletes as the token says', async () => {
    const token = await annToken(3600, { moderate: ['team-a'] });
    const recording = wire();
    const client = new WallcastClient({ baseUrl: server.url, token, EventSource: recording.EventSource });
    const { seen, handlers } = recorder();
    const subscription = follow(client, 'team-a', handlers);
    await until('live', 3000, () => subscription.state === 'live');

    const posted = await within('post', 3000, client.post('team-a', { body: 'hello team', author: 'Mallory' }));
    // The token's name and sub, not the author the body names.
    expect(posted.message).toMatchObject({ author: 'Ann', authorId: 'u42', body: 'hello team' });
    await until('the post on the stream', 3000, () => seen.messages.length === 1);
    expect(seen.messages[0]?.id).toBe(posted.message.id);

    expect(recording.seen.urls).toHaveLength(1);
    const url = new URL(recording.seen.urls[0] ?? '');
    expect(url.searchParams.get('ticket')).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(url.href).not.toContain(token);

    // Private indeed: without the token it is refused; with it, read and deleted.
    expect((await fetch(`${server.url}/api/walls/team-a/messages`)).status).toBe(401);
    expect((await within('history', 3000, client.history('team-a'))).messages.map((m) => m.id)).toEqual([
      posted.message.id,
    ]);
    await within('delete', 3000, client.delete('team-a', posted.message.id));
    expect(await within('read', 3000, client.message('team-a', posted.message.id))).toBeUndefined();
    expect(seen.errors).toEqual([]);
  });

  it('gets reauth, calls getToken, and resumes from its position under steady posts: nothing lost, nothing twice, no ticket used twice', async () => {
    // Short tokens: the server says reauth at once and ends the stream at exp. Each token getToken
    // gives outlives the last by 2 s (exp is in whole seconds: two made in one second would be alike).
    let lastExp = 0;
    const tokens = tokenSource(() => {
      lastExp = Math.max(nowSeconds() + 3, lastExp + 2);
      return annToken(lastExp - nowSeconds());
    });
    const recording = wire();
    const client = new WallcastClient({
      baseUrl: server.url,
      getToken: tokens.getToken,
      EventSource: recording.EventSource,
    });
    const poster = new WallcastClient({ baseUrl: server.url, token: await annToken(3600) });
    const { seen, handlers } = recorder();
    const subscription = follow(client, ['team-b', 'team-c'], handlers, { backlog: 0 });
    await until('live', 3000, () => subscription.state === 'live');

    const posted: Message[] = [];
    // Posts keep coming until two token expiries have been met with fresh connections, and a little after.
    const enough = () => recording.tickets().length >= 3 && subscription.state === 'live';
    let after = 0;
    await within(
      'posting through two token expiries',
      12_000,
      (async () => {
        while (!enough() || after++ < 5) {
          const wall = posted.length % 2 === 0 ? 'team-b' : 'team-c';
          posted.push((await poster.post(wall, { body: `m${posted.length}` })).message);
          await new Promise((resolve) => setTimeout(resolve, 30));
        }
      })(),
    );
    await until('every post delivered', 5000, () => seen.messages.length >= posted.length);

    // Every wall in its order, every message once, on the wire too (the position was exact, not only deduped).
    for (const wall of ['team-b', 'team-c']) {
      const ids = (messages: Message[]) => messages.filter((m) => m.wall === wall).map((m) => m.id);
      expect(ids(seen.messages)).toEqual(ids(posted));
    }
    expect(new Set(recording.seen.messageIds).size).toBe(recording.seen.messageIds.length);
    expect([...recording.seen.messageIds].sort()).toEqual(posted.map((m) => m.id).sort());
    // A fresh ticket for every connection, none used twice (the EventSource did not reconnect by itself).
    const tickets = recording.tickets();
    expect(tickets.every((ticket) => ticket !== null)).toBe(true);
    expect(new Set(tickets).size).toBe(tickets.length);
    // Each connection taken (none refused): they followed the reauths, not a refusal's second try.
    expect(recording.seen.statuses.every((status) => status === 200)).toBe(true);
    expect(recording.seen.reauths.length).toBeGreaterThanOrEqual(2);
    expect(JSON.parse(recording.seen.reauths[0] ?? '{}').expiresAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(tokens.calls).toBeGreaterThanOrEqual(3);
    expect(seen.states[0]).toBe('live');
    expect(seen.states.at(-1)).toBe('live');
    expect(seen.errors).toEqual([]);
  });

  it('asks getToken once for everything that needs a token at the same time', async () => {
    const tokens = tokenSource(async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return annToken(3600);
    });
    const client = new WallcastClient({ baseUrl: server.url, getToken: tokens.getToken, EventSource });
    const subscription = follow(client, 'team-d', {});
    const posts = ['one', 'two', 'three'].map((body) => client.post('team-d', { body }));
    await within('posts', 3000, Promise.all(posts));
    await until('live', 3000, () => subscription.state === 'live');
    expect(tokens.calls).toBe(1);
  });

  it('retries a post and a read refused as token_expired once, with a fresh token: the post keeps its key and is stored once', async () => {
    const tokens = tokenSource(() => annToken(3600));
    const exchanges: { method: string; status: number; key: string | null }[] = [];
    const client = new WallcastClient({
      baseUrl: server.url,
      // Expired well past the 30 s of clock skew allowed.
      token: await annToken(-120),
      getToken: tokens.getToken,
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        const key = new Headers(init?.headers).get('Idempotency-Key');
        exchanges.push({ method: init?.method ?? 'GET', status: response.status, key });
        return response;
      },
    });
    const posted = await within('post', 3000, client.post('team-e', { body: 'after a fresh token' }));
    expect(exchanges.map(({ method, status }) => `${method} ${status}`)).toEqual(['POST 401', 'POST 201']);
    expect(exchanges[1]?.key).toBe(exchanges[0]?.key);
    expect(posted.replayed).toBe(false);
    expect(tokens.calls).toBe(1);
    const reader = new WallcastClient({ baseUrl: server.url, token: await annToken(-120), getToken: tokens.getToken });
    const history = await within('history', 3000, reader.history('team-e'));
    expect(history.messages.map((m) => m.id)).toEqual([posted.message.id]);
    expect(tokens.calls).toBe(2);
  });

  it('reports a getToken that fails: the stream stops with onError, the post throws, nothing is asked again', async () => {
    const failing = tokenSource(async () => {
      throw new Error('the sign-in service is down');
    });
    const client = new WallcastClient({ baseUrl: server.url, getToken: failing.getToken, EventSource });
    const { seen, handlers } = recorder();
    const subscription = follow(client, 'team-f', handlers);
    await until('the error', 3000, () => seen.errors.length === 1);
    expect(seen.errors[0]).toBeInstanceOf(WallcastError);
    expect(seen.errors[0]).toMatchObject({ code: 'get_token_failed' });
    expect(seen.errors[0]?.message).toContain('the sign-in service is down');
    expect(subscription.error).toBe(seen.errors[0]);
    expect(subscription.state).toBe('connecting');
    const error = await within('post', 3000, client.post('team-f', { body: 'x' }, { idempotencyKey: 'k-1' })).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'get_token_failed', idempotencyKey: 'k-1' });
    expect(failing.calls).toBe(2);
  });

  it('reports a getToken that fails at reauth once the stream has ended, keeping its position', async () => {
    // The first token lives 1–2 s; then the sign-in service is down.
    const tokens = tokenSource(async (call) => {
      if (call === 1) return annToken(2);
      throw new Error('the sign-in service is down');
    });
    const client = new WallcastClient({ baseUrl: server.url, getToken: tokens.getToken, EventSource });
    const { seen, handlers } = recorder();
    const subscription = follow(client, 'team-g', handlers, { backlog: 0 });
    await until('live', 3000, () => subscription.state === 'live');
    const posted = await new WallcastClient({ baseUrl: server.url, token: await annToken(60) }).post('team-g', {
      body: 'before the end',
    });
    await until('the error at the end', 5000, () => seen.errors.length === 1);
    expect(seen.messages.map((m) => m.id)).toEqual([posted.message.id]);
    expect(seen.errors[0]).toMatchObject({ code: 'get_token_failed' });
    expect(subscription.state).toBe('reconnecting');
    expect(subscription.position).toEqual({ 'team-g': posted.message.cursor });
    // Once at reauth, once more when the stream ended, and no more.
    expect(tokens.calls).toBe(3);
  });

  it('reports a ticket refused again after a fresh token, and a refused scope at once, instead of asking in a loop', async () => {
    const forged = tokenSource(() => annToken(3600, {}, secretText(40)));
    const { seen, handlers } = recorder();
    const refused = follow(
      new WallcastClient({ baseUrl: server.url, getToken: forged.getToken, EventSource }),
      'team-h',
      handlers,
    );
    await until('the error', 3000, () => seen.errors.length === 1);
    expect(seen.errors[0]).toMatchObject({ code: 'token_invalid', status: 401 });
    expect(refused.error).toBe(seen.errors[0]);
    expect(forged.calls).toBe(2);

    const narrow = tokenSource(() => annToken(3600, { read: ['team-a'] }));
    const other = recorder();
    follow(
      new WallcastClient({ baseUrl: server.url, getToken: narrow.getToken, EventSource }),
      'team-h',
      other.handlers,
    );
    await until('the error', 3000, () => other.seen.errors.length === 1);
    expect(other.seen.errors[0]).toMatchObject({ code: 'insufficient_scope', status: 403 });
    expect(narrow.calls).toBe(1);
  });
});

describe('the client where the stream refuses the tickets', () => {
  let issuing: RunningServer;
  let streaming: RunningServer;
  let proxy: Server;
  let proxyUrl: string;

  beforeAll(async () => {
    // Two instances that share no ticket book, behind a proxy that sends ticket requests to one and
    // streams to the other: every ticket is unknown where it is used.
    issuing = await startTestServer(AUTH_ENV);
    streaming = await startTestServer(AUTH_ENV);
    proxy = createServer((req, res) => {
      const target = req.url === '/api/tickets' ? issuing : streaming;
      const upstream = request(
        new URL(req.url ?? '/', target.url),
        { method: req.method, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    proxy?.closeAllConnections();
    await new Promise((resolve) => proxy?.close(resolve));
    await issuing?.close();
    await streaming?.close();
  });

  it('tries once more with a fresh token and ticket, then reports ticket_invalid and stops', async () => {
    const tokens = tokenSource(() => annToken(3600));
    const recording = wire();
    const client = new WallcastClient({
      baseUrl: proxyUrl,
      getToken: tokens.getToken,
      EventSource: recording.EventSource,
    });
    const { seen, handlers } = recorder();
    const subscription = client.subscribe('team-i', handlers);
    try {
      await until('the error', 5000, () => seen.errors.length === 1);
      expect(seen.errors[0]).toMatchObject({ code: 'ticket_invalid', status: 401 });
      expect(subscription.state).toBe('connecting');
      expect(tokens.calls).toBe(2);
      const tickets = recording.tickets();
      expect(tickets).toHaveLength(2);
      expect(new Set(tickets).size).toBe(2);
    } finally {
      subscription.close();
    }
  });
});

describe('the client with a token, where the server takes none', () => {
  it('opens its stream without a ticket (no key there: no token is read) and posts', async () => {
    const server = await startTestServer();
    const recording = wire();
    const client = new WallcastClient({
      baseUrl: server.url,
      token: await annToken(3600),
      EventSource: recording.EventSource,
    });
    const { seen, handlers } = recorder();
    const subscription = client.subscribe('plain', handlers);
    try {
      await until('live', 3000, () => subscription.state === 'live');
      await within('post', 3000, client.post('plain', { body: 'hello', author: 'ann' }));
      await until('the post', 3000, () => seen.messages.length === 1);
      expect(seen.messages[0]).toMatchObject({ author: 'ann', authorId: null });
      expect(recording.tickets()).toEqual([null]);
    } finally {
      subscription.close();
      await server.close();
    }
  });
});
