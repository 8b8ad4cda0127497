/**
 * The wallcast client (`wallcast/client`, which the page runs too): on a
 * page of another site in Chromium, where CORS decides (with tokens from
 * `getToken` too), and in Node with the `eventsource` package, on real
 * sockets (tokens in Node: client-auth.test.ts). Its .d.ts is tsc's output
 * for its JSDoc, checked here so the two cannot drift.
 */
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventSource } from 'eventsource';
import type { Browser, Page } from 'playwright-core';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Position, type StreamState, type Subscription, WallcastClient, WallcastError } from 'wallcast/client';
import type { Message } from '../../src/message.js';
import type { RunningServer } from '../../src/server.js';
import { launchChromium } from '../support/browser.js';
import { until, within } from '../support/deadlines.js';
import { getJson, postJson } from '../support/http.js';
import { claims, nowSeconds, secretText, signHmac } from '../support/jwt.js';
import { startTestServer } from '../support/server.js';
import { withoutChromium } from '../support/services.js';

const CLIENT_FILE = new URL('../../client/wallcast-client.js', import.meta.url);
const SECRET = secretText();

/** What a subscription saw: bodies, deletes, resets, states, in order. */
function recorder() {
  const seen = {
    bodies: [] as string[],
    deletes: [] as { id: string; wall: string | undefined }[],
    resets: [] as { reason: string; wall: string | undefined }[],
    states: [] as StreamState[],
    position: {} as Position,
  };
  const handlers = {
    onMessage: (message: Message, position: Position) => {
      seen.bodies.push(message.body);
      seen.position = position;
    },
    onDelete: (deleted: { id: string; wall: string | undefined }) => seen.deletes.push(deleted),
    onReset: (reset: { reason: string; wall: string | undefined }) => seen.resets.push(reset),
    onState: (state: StreamState) => seen.states.push(state),
  };
  return { seen, handlers };
}

describe('the client in Node', () => {
  let server: RunningServer;
  let client: WallcastClient;
  const subscriptions: Subscription[] = [];

  beforeAll(async () => {
    server = await startTestServer({ WALLCAST_ADMIN_TOKEN: 'admin-token-1', WALLCAST_BACKLOG: '3' });
    client = new WallcastClient({ baseUrl: server.url, EventSource });
  });
  afterAll(async () => {
    for (const subscription of subscriptions) subscription.close();
    await server?.close();
  });

  const follow = (...args: Parameters<WallcastClient['subscribe']>) => {
    const subscription = client.subscribe(...args);
    subscriptions.push(subscription);
    return subscription;
  };
  const post = async (wall: string, body: string): Promise<Message> =>
    (await postJson(server.url, `/api/walls/${wall}/messages`, { body })).json;

  it('follows several walls on one stream, keeps the position, and resumes every wall exactly from it', async () => {
    const a0 = await post('ca', 'a0');
    const first = recorder();
    const subscription = follow(['ca', 'cb'], first.handlers);
    await until('live', 3000, () => subscription.state === 'live');
    const b1 = await post('cb', 'b1');
    await until('backlog and live', 3000, () => first.seen.bodies.length === 2);
    expect(first.seen.bodies).toEqual(['a0', 'b1']);
    expect(subscription.position).toEqual({ ca: a0.cursor, cb: b1.cursor });
    expect(first.seen.states).toEqual(['live']);
    subscription.close();

    await post('ca', 'a1 while away');
    await post('cb', 'b2 while away');
    const second = recorder();
    const resumed = follow(['ca', 'cb'], second.handlers, { position: subscription.position });
    await until('what was missed', 3000, () => second.seen.bodies.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(second.seen.bodies).toEqual(['a1 while away', 'b2 while away']);
    expect(second.seen.resets).toEqual([]);
    expect(server.deps.hub.size).toBe(1);
    resumed.close();
  });

  it('changes its walls on a new stream: kept walls resume where they were, a new one from its cursor', async () => {
    await post('ua', 'ua0');
    const ub0 = await post('ub', 'ub0 (before the cursor)');
    const { seen, handlers } = recorder();
    const subscription = follow('ua', handlers);
    await until('first wall', 3000, () => seen.bodies.length === 1);
    await post('ub', 'ub1 (after the cursor)');
    subscription.update(['ua', 'ub'], { ub: ub0.cursor });
    await until('the new wall live', 3000, () => subscription.liveWalls.includes('ub'));
    await post('ua', 'ua1');
    await until('both walls', 3000, () => seen.bodies.length === 3);
    expect(seen.bodies).toEqual(['ua0', 'ub1 (after the cursor)', 'ua1']);
    // Kept live across the change: nothing of ua was missed while the stream was replaced.
    expect(seen.states).toEqual(['live', 'live']);
    subscription.update('ub');
    await until('one wall again', 3000, () => subscription.liveWalls.join() === 'ub');
    expect(subscription.walls).toEqual(['ub']);
    expect(Object.keys(subscription.position)).toEqual(['ub']);
  });

  it('reconnects after a drop without a gap or a duplicate, and reports deletes and resets with their wall', async () => {
    const { seen, handlers } = recorder();
    const subscription = follow(['da', 'db'], handlers, { backlog: 0 });
    await until('live', 3000, () => subscription.state === 'live');
    const doomed = await post('db', 'to be deleted');
    await until('first', 3000, () => seen.bodies.length === 1);
    server.deps.hub.disconnectAll();
    await post('da', 'while dropped');
    await until('reconnected and caught up', 8000, () => seen.bodies.length === 2 && subscription.state === 'live');
    expect(seen.states).toEqual(['live', 'reconnecting', 'live']);
    const res = await fetch(`${server.url}/api/walls/db/messages/${doomed.id}`, {
      method: 'DELETE',
      headers: { Authorization: 'Bearer admin-token-1' },
    });
    expect(res.status).toBe(204);
    await until('delete', 3000, () => seen.deletes.length === 1);
    expect(seen.deletes).toEqual([{ id: doomed.id, wall: 'db' }]);
    expect(seen.bodies).toEqual(['to be deleted', 'while dropped']);

    const reset = recorder();
    follow(['da'], reset.handlers, { position: { da: 'no-such-cursor' } });
    await until('reset', 3000, () => reset.seen.resets.length === 1);
    expect(reset.seen.resets[0]?.wall).toBe('da');
  });

  it('posts once whatever happens to the answer: a retry with the same key is the same message', async () => {
    let calls = 0;
    const keys: string[] = [];
    const losesFirstAnswer = new WallcastClient({
      baseUrl: server.url,
      fetch: async (input, init) => {
        keys.push(new Headers(init?.headers).get('Idempotency-Key') ?? '');
        const response = await fetch(input, init);
        // Stored on the server; the answer is lost on the way back.
        if (++calls === 1) throw new TypeError('fetch failed');
        return response;
      },
    });
    const retries: number[] = [];
    const posted = await losesFirstAnswer.post(
      'idem',
      { body: 'once', author: 'node' },
      { onRetry: ({ attempt }) => retries.push(attempt) },
    );
    expect(posted.replayed).toBe(true);
    expect(retries).toEqual([1]);
    expect(keys[1]).toBe(keys[0]);
    const history = await client.history('idem');
    expect(history.messages.map((m) => m.id)).toEqual([posted.message.id]);
    expect(await client.message('idem', posted.message.id)).toEqual(posted.message);
    expect(await client.message('idem', 'no-such-id')).toBeUndefined();
  });

  it('says in words when there is no server, gives up by its deadline, and hands back the key', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const nowhere = new WallcastClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 1500 });
    const started = Date.now();
    const error = await nowhere.post('x', { body: 'hello' }, { idempotencyKey: 'key-1' }).catch((e) => e);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error).toBeInstanceOf(WallcastError);
    expect(error.code).toBe('network');
    expect(error.message).toBe(`Cannot reach the server at 127.0.0.1:${port}: it may be down or restarting.`);
    expect(error.idempotencyKey).toBe('key-1');
  });

  it('retries a 503 after its Retry-After, never a 429 or a 400', async () => {
    const answers = [503, 201];
    const statuses: number[] = [];
    const scripted = (status: number) =>
      new WallcastClient({
        baseUrl: server.url,
        fetch: async (input, init) => {
          const next = status === 0 ? (answers.shift() ?? 201) : status;
          statuses.push(next);
          if (next === 201) return fetch(input, init);
          const code = next === 503 ? 'unavailable' : next === 429 ? 'rate_limited' : 'invalid_body';
          return new Response(JSON.stringify({ error: { code, message: `said ${next}` } }), {
            status: next,
            headers: { 'Content-Type': 'application/json', 'Retry-After': '1' },
          });
        },
      });
    const started = Date.now();
    const posted = await scripted(0).post('retry', { body: 'after a 503' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(posted.message.body).toBe('after a 503');
    for (const status of [429, 400]) {
      statuses.length = 0;
      const error = await scripted(status)
        .post('retry', { body: 'refused' })
        .catch((e) => e);
      expect(error).toMatchObject({
        code: status === 429 ? 'rate_limited' : 'invalid_body',
        status,
        retryAfterSeconds: 1,
      });
      expect(error.message).toBe(`said ${status}`);
      expect(statuses).toEqual([status]);
    }
  });

  it('is typed by a .d.ts that is exactly what tsc makes of its JSDoc', () => {
    const out = join(tmpdir(), `wallcast-client-dts-${process.pid}`);
    const config = ts.getParsedCommandLineOfConfigFile(
      new URL('../../client/tsconfig.json', import.meta.url).pathname,
      { outDir: out },
      { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
    );
    if (config === undefined) throw new Error('client/tsconfig.json did not parse');
    const emitted = ts.createProgram(config.fileNames, config.options).emit();
    expect(emitted.diagnostics).toEqual([]);
    const committed = readFileSync(new URL('../../client/wallcast-client.d.ts', import.meta.url), 'utf8');
    const fresh = readFileSync(join(out, 'wallcast-client.d.ts'), 'utf8');
    rmSync(out, { recursive: true, force: true });
    // When this fails: npx tsc -p client/tsconfig.json, and commit the .d.ts with the change.
    expect(fresh).toBe(committed);
  });
});

describe.skipIf(withoutChromium())('the client on a page of another site', () => {
  let elsewhere: Server;
  let elsewhereUrl: string;
  let browser: Browser;

  /**
   * The other site: a page that follows a wall of `wallcast` and posts to it, with its own copy of the
   * client; with a token, it gets each from the site itself (`/token`), as an application would.
   */
  const page = (
    wallcast: string,
    wall: string,
    withToken: boolean,
  ) => `<!doctype html><meta charset="utf-8"><title>elsewhere</title>
<script type="module">
import { WallcastClient } from '/wallcast-client.js';
window.seen = { bodies: [], authors: [], states: [], errors: [], tokens: 0 };
const getToken = async () => {
  window.seen.tokens++;
  return (await fetch('/token')).text();
};
const client = new WallcastClient({ baseUrl: ${JSON.stringify(wallcast)}, timeoutMs: 3000${withToken ? ', getToken' : ''} });
client.subscribe(${JSON.stringify(wall)}, {
  onMessage: (message) => {
    window.seen.bodies.push(message.body);
    window.seen.authors.push(message.author + '/' + message.authorId);
  },
  onState: (state) => window.seen.states.push(state),
  onError: (error) => window.seen.errors.push(error.code),
});
window.postIt = (body) => client.post(${JSON.stringify(wall)}, { body }).then(
  (posted) => ({ ok: true, id: posted.message.id }),
  (error) => ({ ok: false, code: error.code, message: error.message }),
);
</script>`;

  /** Short tokens for Ann, each outliving the last by 2 s (exp is in whole seconds). */
  let lastExp = 0;
  const shortToken = () => {
    lastExp = Math.max(nowSeconds() + 3, lastExp + 2);
    return signHmac(claims({ name: 'Ann', exp: lastExp, wallcast: { read: ['team-*'], post: ['team-*'] } }), SECRET);
  };

  beforeAll(async () => {
    elsewhere = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://elsewhere');
      if (url.pathname === '/wallcast-client.js') {
        res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(readFileSync(CLIENT_FILE));
      } else if (url.pathname === '/token') {
        shortToken().then((token) => res.writeHead(200, { 'Content-Type': 'text/plain' }).end(token));
      } else if (url.pathname === '/') {
        const wallcast = url.searchParams.get('wallcast') ?? '';
        const body = page(wallcast, url.searchParams.get('wall') ?? 'cors', url.searchParams.has('token'));
        res.writeHead(200, { 'Content-Type': 'text/html' }).end(body);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    elsewhereUrl = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => elsewhere?.close(resolve));
  });

  /** A tab of the other site; `streams` gets the URL of every stream request the browser makes. */
  const open = async (wallcast: RunningServer, query = '', streams: string[] = []): Promise<Page> => {
    const tab = await browser.newPage();
    tab.on('request', (request) => {
      if (new URL(request.url()).pathname === '/api/events') streams.push(request.url());
    });
    await tab.goto(`${elsewhereUrl}/?wallcast=${encodeURIComponent(wallcast.url)}${query}`);
    await tab.waitForFunction(() => (window as unknown as { postIt?: unknown }).postIt !== undefined, null, {
      timeout: 5000,
    });
    return tab;
  };
  type Seen = { bodies: string[]; authors: string[]; states: string[]; errors: string[]; tokens: number };
  const seen = (tab: Page) => tab.evaluate(() => (window as unknown as { seen: Seen }).seen);
  const postFrom = (tab: Page, body: string) =>
    tab.evaluate((body) => (window as unknown as { postIt: (b: string) => Promise<unknown> }).postIt(body), body);

  it('follows a private wall with tokens from getToken through tickets, across token expiries, nothing lost or twice', async () => {
    const wallcast = await startTestServer({
      WALLCAST_CORS_ORIGINS: elsewhereUrl,
      WALLCAST_JWT_SECRET: SECRET,
      WALLCAST_PRIVATE_WALLS: 'team-*',
    });
    try {
      const streams: string[] = [];
      const tab = await open(wallcast, '&wall=team-web&token', streams);
      await tab.waitForFunction(() => (window as unknown as { seen: Seen }).seen.states.includes('live'), null, {
        timeout: 5000,
      });
      expect(await postFrom(tab, 'from the page')).toMatchObject({ ok: true });
      const poster = await signHmac(claims({ name: 'Bo', wallcast: { post: ['team-*'] } }), SECRET);
      const bodies = ['from the page'];
      // Posts keep coming until the browser's stream has met two token expiries with fresh tickets.
      await within(
        'posting through two token expiries',
        12_000,
        (async () => {
          while (streams.length < 3 || (await seen(tab)).states.at(-1) !== 'live') {
            const body = `p${bodies.length}`;
            const { status } = await postJson(
              wallcast.url,
              '/api/walls/team-web/messages',
              { body },
              {
                Authorization: `Bearer ${poster}`,
              },
            );
            expect(status).toBe(201);
            bodies.push(body);
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        })(),
      );
      await until('every post on the page', 5000, async () => (await seen(tab)).bodies.length >= bodies.length);
      const result = await seen(tab);
      expect(result.bodies).toEqual(bodies);
      expect(result.authors[0]).toBe('Ann/u42');
      expect(result.errors).toEqual([]);
      expect(result.tokens).toBeGreaterThanOrEqual(3);
      // Every connection the browser made had its own ticket: it never reconnected by itself with a used one.
      const tickets = streams.map((url) => new URL(url).searchParams.get('ticket'));
      expect(tickets.every((ticket) => ticket !== null)).toBe(true);
      expect(new Set(tickets).size).toBe(tickets.length);
      await tab.close();
    } finally {
      await wallcast.close();
    }
  });

  it('streams and posts when the server allows the site (WALLCAST_CORS_ORIGINS)', async () => {
    const wallcast = await startTestServer({ WALLCAST_CORS_ORIGINS: elsewhereUrl });
    try {
      const tab = await open(wallcast);
      await tab.waitForFunction(() => (window as unknown as { seen: Seen }).seen.states.includes('live'), null, {
        timeout: 5000,
      });
      expect(await postFrom(tab, 'from elsewhere')).toMatchObject({ ok: true });
      await tab.waitForFunction(() => (window as unknown as { seen: Seen }).seen.bodies.length === 1, null, {
        timeout: 5000,
      });
      expect((await seen(tab)).bodies).toEqual(['from elsewhere']);
      await tab.close();
    } finally {
      await wallcast.close();
    }
  });

  it('is refused without it: no stream, no post stored, and the page is told why it may be', async () => {
    const wallcast = await startTestServer();
    try {
      const tab = await open(wallcast);
      const answer = (await postFrom(tab, 'not allowed')) as { ok: boolean; code: string; message: string };
      expect(answer).toMatchObject({ ok: false, code: 'network' });
      expect(answer.message).toContain('or not accept requests from this site (WALLCAST_CORS_ORIGINS)');
      expect((await seen(tab)).states).not.toContain('live');
      expect((await getJson(wallcast.url, '/api/walls/cors/messages')).json.messages).toEqual([]);
      await tab.close();
    } finally {
      await wallcast.close();
    }
  });
});
