/**
 * What hostile or unlucky clients meet over HTTP: every door obeys the same
 * rules, bounds refuse with a clear error, retries post once, pages are
 * hardened, and a client that trickles its request is cut.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prefix64 } from '../../src/http/client-address.js';
import type { Message } from '../../src/message.js';
import type { RunningServer } from '../../src/server.js';
import { until } from '../support/deadlines.js';
import { getJson, postJson } from '../support/http.js';
import { startTestServer } from '../support/server.js';
import { RawSse } from '../support/sse-reader.js';

/** A page's `_xsrf` cookie, as a browser would hold it. */
async function xsrfOf(base: string): Promise<string> {
  const cookie = (await fetch(`${base}/`)).headers.get('set-cookie') ?? '';
  return /_xsrf=([A-Za-z0-9]+)/.exec(cookie)?.[1] as string;
}

/** The Tornado-compat post, as the seed's chat.js sends it. */
async function compatPost(base: string, xsrf: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${base}/a/message/new`, {
    method: 'POST',
    headers: { Cookie: `_xsrf=${xsrf}`, ...headers },
    body: new URLSearchParams({ body, _xsrf: xsrf }),
  });
}

describe('every door that posts obeys every rule', () => {
  it('needs the publish token at /a/message/new too, whatever _xsrf the client chose', async () => {
    const server = await startTestServer({ WALLCAST_PUBLISH_TOKEN: 'sekrit-token' });
    try {
      const chosen = 'a'.repeat(32);
      const refused = await compatPost(server.url, chosen, 'sneaking in');
      expect(refused.status).toBe(401);
      expect((await refused.json()).error.code).toBe('unauthorized');
      const allowed = await compatPost(server.url, chosen, 'with the token', { Authorization: 'Bearer sekrit-token' });
      expect(allowed.status).toBe(200);
      expect((await getJson(server.url, '/api/messages')).json.messages.map((m: Message) => m.body)).toEqual([
        'with the token',
      ]);
    } finally {
      await server.close();
    }
  });

  it('answers a keyed retry of a stored post even when the budget is spent, and refunds posts that stored nothing', async () => {
    const server = await startTestServer({ WALLCAST_RATE_LIMIT: '2/min', WALLCAST_MAX_WALLS: '1' });
    try {
      const key = { 'Idempotency-Key': 'spent-budget-1' };
      expect((await postJson(server.url, '/api/walls/one/messages', { body: 'kept' }, key)).status).toBe(201);
      // Refused by a bound: nothing stored, nothing counted.
      expect((await postJson(server.url, '/api/walls/two/messages', { body: 'no room' })).status).toBe(507);
      expect((await postJson(server.url, '/api/walls/one/messages', { body: 'second' })).status).toBe(201);
      expect((await postJson(server.url, '/api/walls/one/messages', { body: 'third' })).status).toBe(429);
      const retry = await postJson(server.url, '/api/walls/one/messages', { body: 'kept' }, key);
      expect(retry.status).toBe(201);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
    } finally {
      await server.close();
    }
  });

  it('counts /a/message/new against the same rate limit as the API', async () => {
    const server = await startTestServer({ WALLCAST_RATE_LIMIT: '2/min' });
    try {
      const xsrf = await xsrfOf(server.url);
      expect((await postJson(server.url, '/api/messages', { body: 'one' })).status).toBe(201);
      expect((await compatPost(server.url, xsrf, 'two')).status).toBe(200);
      const third = await compatPost(server.url, xsrf, 'three');
      expect(third.status).toBe(429);
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await postJson(server.url, '/api/messages', { body: 'four' })).status).toBe(429);
    } finally {
      await server.close();
    }
  });
});

describe('the rate limit counts clients, not addresses', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ WALLCAST_RATE_LIMIT: '1/min', WALLCAST_TRUST_PROXY: 'loopback' });
  });
  afterAll(() => server.close());
  const from = (forwardedFor: string, body: string) =>
    postJson(server.url, '/api/messages', { body }, { 'X-Forwarded-For': forwardedFor });

  it('keys an IPv6 client by its /64, so each of its addresses does not get a fresh budget', async () => {
    expect((await from('2001:db8:1:2::1', 'first')).status).toBe(201);
    expect((await from('2001:db8:1:2:ffff::99', 'same /64')).status).toBe(429);
    expect((await from('2001:db8:1:3::1', 'another /64')).status).toBe(201);
  });

  it('keys an IPv4-mapped IPv6 address as the IPv4 address', async () => {
    expect((await from('198.51.100.7', 'plain')).status).toBe(201);
    expect((await from('::ffff:198.51.100.7', 'mapped')).status).toBe(429);
  });

  it('believes X-Forwarded-For from a trusted proxy only, reading it from the right', async () => {
    // The left-most entry is whatever the client wrote; the proxy appended the real one.
    expect((await from('203.0.113.1, 198.51.100.20', 'via the proxy')).status).toBe(201);
    expect((await from('203.0.113.2, 198.51.100.20', 'forged left part')).status).toBe(429);
    const direct = await startTestServer({ WALLCAST_RATE_LIMIT: '1/min' });
    try {
      expect(
        (await postJson(direct.url, '/api/messages', { body: 'a' }, { 'X-Forwarded-For': '192.0.2.1' })).status,
      ).toBe(201);
      // Not a trusted proxy: its header names nobody, and the socket's address is the client.
      const b = await postJson(direct.url, '/api/messages', { body: 'b' }, { 'X-Forwarded-For': '192.0.2.2' });
      expect(b.status).toBe(429);
    } finally {
      await direct.close();
    }
  });

  it('writes a /64 the same whichever way the address is spelt', () => {
    expect(prefix64('2001:DB8:0:0:1::1')).toBe('2001:db8:0:0::/64');
    expect(prefix64('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(prefix64('::1')).toBe('0:0:0:0::/64');
    expect(prefix64('2001:0db8:0001:0002:0003:0004:0005:0006')).toBe('2001:db8:1:2::/64');
  });
});

describe('bounds and retries', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ WALLCAST_MAX_WALLS: '3' });
  });
  afterAll(() => server.close());

  it('refuses a post that would start a wall past WALLCAST_MAX_WALLS with 507, and stores nothing', async () => {
    for (const wall of ['w1', 'w2', 'w3']) {
      expect((await postJson(server.url, `/api/walls/${wall}/messages`, { body: 'x' })).status).toBe(201);
    }
    const refused = await postJson(server.url, '/api/walls/w4/messages', { body: 'no room' });
    expect(refused.status).toBe(507);
    expect(refused.json.error.code).toBe('too_many_walls');
    expect(refused.json.error.message).toMatch(/at most 3 walls/);
    expect((await getJson(server.url, '/api/walls/w4/messages')).json.messages).toEqual([]);
    expect((await postJson(server.url, '/api/walls/w1/messages', { body: 'an old wall' })).status).toBe(201);
  });

  it('stores a retried post once: same key, same answer, Idempotent-Replayed', async () => {
    const stream = new RawSse(`${server.url}/api/walls/w2/events?backlog=0`);
    await stream.waitFor('open', (s) => s.frames.length >= 2);
    const key = { 'Idempotency-Key': 'retry-8f1c2' };
    const first = await postJson(server.url, '/api/walls/w2/messages', { body: 'once' }, key);
    const retry = await postJson(server.url, '/api/walls/w2/messages', { body: 'once' }, key);
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.json).toEqual(first.json);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const other = await postJson(server.url, '/api/walls/w2/messages', { body: 'something else' }, key);
    expect(other.status).toBe(422);
    expect(other.json.error.code).toBe('idempotency_key_reused');
    const bad = await postJson(server.url, '/api/walls/w2/messages', { body: 'x' }, { 'Idempotency-Key': 'a b' });
    expect(bad.json.error.code).toBe('invalid_idempotency_key');
    await stream.waitForMessages(1, 'the post, live');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stream.messages().map((m) => m.body)).toEqual(['once']);
    stream.close();
  });

  it('takes the no-JS form key as idempotency_key, so a double submit posts once', async () => {
    const form = () =>
      fetch(`${server.url}/api/walls/w3/messages`, {
        method: 'POST',
        body: new URLSearchParams({ body: 'pressed twice', idempotency_key: 'form-7d2a', next: '/w/w3' }),
        redirect: 'manual',
      });
    expect((await form()).status).toBe(303);
    expect((await form()).status).toBe(303);
    const bodies = (await getJson(server.url, '/api/walls/w3/messages')).json.messages.map((m: Message) => m.body);
    expect(bodies.filter((b: string) => b === 'pressed twice')).toHaveLength(1);
  });

  it('accepts the longest valid body in every encoding clients use', async () => {
    const cjk = '漢'.repeat(2000);
    const form = await fetch(`${server.url}/api/walls/w1/messages`, {
      method: 'POST',
      body: new URLSearchParams({ body: cjk }),
    });
    expect(form.status).toBe(201);
    const emoji = '😀'.repeat(2000);
    // As a client that escapes everything outside ASCII sends it: 12 bytes per emoji.
    const escaped = `{"body":"${'\\ud83d\\ude00'.repeat(2000)}"}`;
    expect(escaped.length).toBeGreaterThan(24_000);
    const json = await fetch(`${server.url}/api/walls/w1/messages`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: escaped,
    });
    expect(json.status).toBe(201);
    expect((await json.json()).body).toBe(emoji);
    const tooLong = await postJson(server.url, '/api/walls/w1/messages', { body: '😀'.repeat(2001) });
    expect(tooLong.json.error.code).toBe('invalid_body');
  });

  it('keeps a history page within 1 MiB however large a limit asks for', async () => {
    const body = '"'.repeat(2000);
    for (let i = 0; i < 120; i += 20) {
      await Promise.all(Array.from({ length: 20 }, () => postJson(server.url, '/api/walls/w1/messages', { body })));
    }
    const res = await fetch(`${server.url}/api/walls/w1/messages?limit=1000`);
    const text = await res.text();
    expect(text.length).toBeLessThanOrEqual(1024 * 1024 + 1024);
    const page = JSON.parse(text);
    expect(page.messages.length).toBeGreaterThan(10);
    expect(page.messages.length).toBeLessThan(120);
    expect(page.cursor).toBe(page.messages.at(-1).cursor);
  });
});

describe('hardened pages', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('sends a CSP, no framing, a same-origin referrer policy and nosniff with every page', async () => {
    for (const path of ['/', '/w/hardened', '/static/wall.js']) {
      const res = await fetch(`${server.url}${path}`);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("default-src 'self'");
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      expect(res.headers.get('referrer-policy'), path).toBe('same-origin');
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
  });

  it('sends nosniff with API answers and event streams too', async () => {
    expect((await fetch(`${server.url}/api/messages`)).headers.get('x-content-type-options')).toBe('nosniff');
    expect((await fetch(`${server.url}/nowhere`)).headers.get('x-content-type-options')).toBe('nosniff');
    const sse = new RawSse(`${server.url}/api/events`);
    await sse.opened;
    expect(sse.headers['x-content-type-options']).toBe('nosniff');
    expect(sse.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    sse.close();
  });

  it('isolates author and body for bidirectional text', async () => {
    const posted = await postJson(server.url, '/api/walls/bidi/messages', {
      author: 'evil\u202Eeman',
      body: 'اهلا \u202E reversed?',
    });
    expect(posted.json.html).toContain('<b class="author"><bdi>evil\u202Eeman</bdi></b>');
    expect(posted.json.html).toContain('<span class="body" dir="auto">');
    expect(await (await fetch(`${server.url}/w/bidi`)).text()).toContain('<bdi>evil\u202Eeman</bdi>');
  });
});

describe('a client that trickles its request', () => {
  it('is cut once the request timeout passes, body or headers', async () => {
    const server = await startTestServer({ WALLCAST_REQUEST_TIMEOUT_MS: '1000' });
    try {
      const port = Number(new URL(server.url).port);
      const trickle = (head: string) => {
        const socket = net.connect(port, '127.0.0.1', () => socket.write(head));
        const state = { closed: false, at: 0 };
        socket.on('close', () => Object.assign(state, { closed: true, at: Date.now() }));
        socket.on('error', () => {});
        socket.resume();
        const timer = setInterval(() => !socket.destroyed && socket.write('x'), 200);
        socket.on('close', () => clearInterval(timer));
        return state;
      };
      const started = Date.now();
      const body = trickle(
        'POST /api/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"body":"',
      );
      const headers = trickle('GET / HTTP/1.1\r\nX-Slow: ');
      await until('both cut', 6000, () => body.closed && headers.closed);
      expect(body.at - started).toBeLessThan(4000);
      expect(headers.at - started).toBeLessThan(4000);
    } finally {
      await server.close();
    }
  });
});
