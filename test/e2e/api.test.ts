import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { getJson, postJson } from '../support/http.js';
import { startTestServer } from '../support/server.js';

describe('posting and reading over HTTP', () => {
  let server: RunningServer;
  let base: string;
  beforeAll(async () => {
    server = await startTestServer({ WALLCAST_HISTORY: '100' });
    base = server.url;
  });
  afterAll(() => server.close());

  it('answers a JSON post with 201, the message and its Location', async () => {
    const { status, json, headers } = await postJson(base, '/api/walls/posts/messages', {
      body: '  hello <b>\r\nthere ',
      author: ' ann ',
    });
    expect(status).toBe(201);
    expect(json).toMatchObject({ wall: 'posts', author: 'ann', body: 'hello <b>\nthere' });
    expect(json.id).toMatch(/^[A-Za-z0-9_-]{21}$/);
    expect(json.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(json.html).toContain('hello &lt;b&gt;');
    expect(headers.get('location')).toBe(`/api/walls/posts/messages/${json.id}`);
    expect((await getJson(base, headers.get('location') as string)).json).toEqual(json);
  });

  it('accepts urlencoded and multipart forms, and answers 303 to a safe next', async () => {
    const form = await fetch(`${base}/api/walls/forms/messages`, {
      method: 'POST',
      body: new URLSearchParams({ body: 'from a form', author: 'bo', next: '/w/forms' }),
      redirect: 'manual',
    });
    expect(form.status).toBe(303);
    expect(form.headers.get('location')).toMatch(/^\/w\/forms#m[A-Za-z0-9_-]{21}$/);
    const multipart = new FormData();
    multipart.set('body', 'multipart body');
    const res = await fetch(`${base}/api/walls/forms/messages`, { method: 'POST', body: multipart });
    expect(res.status).toBe(201);
    const page = await getJson(base, '/api/walls/forms/messages');
    expect(page.json.messages.map((m: { body: string }) => m.body)).toEqual(['from a form', 'multipart body']);
  });

  it('refuses every unsafe next with 400 and stores nothing', async () => {
    for (const next of [
      '//evil.example',
      'https://evil.example/',
      '/\\evil',
      'evil',
      '/a//b',
      '/ok\r\nSet-Cookie: x',
    ]) {
      const res = await fetch(`${base}/api/walls/nexts/messages`, {
        method: 'POST',
        body: new URLSearchParams({ body: 'x', next }),
        redirect: 'manual',
      });
      expect(res.status, next).toBe(400);
      expect((await res.json()).error.code).toBe('invalid_next');
    }
    expect((await getJson(base, '/api/walls/nexts/messages')).json.messages).toEqual([]);
  });

  it('answers bad input with the contract error codes', async () => {
    const cases: [string, RequestInit, number, string][] = [
      ['/api/walls/Bad!/messages', json({ body: 'x' }), 400, 'invalid_wall'],
      ['/api/walls/-x/messages', json({ body: 'x' }), 400, 'invalid_wall'],
      [`/api/walls/${'a'.repeat(65)}/messages`, json({ body: 'x' }), 400, 'invalid_wall'],
      ['/api/messages', json({ body: '' }), 400, 'invalid_body'],
      ['/api/messages', json({ body: 'a\u0000b' }), 400, 'invalid_body'],
      ['/api/messages', json({ body: 'x'.repeat(2001) }), 400, 'invalid_body'],
      ['/api/messages', json({ body: 'x', author: 'a'.repeat(65) }), 400, 'invalid_author'],
      [
        '/api/messages',
        { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{' },
        400,
        'invalid_json',
      ],
      ['/api/messages', json([1, 2]), 400, 'invalid_json'],
      [
        '/api/messages',
        { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'x' },
        415,
        'unsupported_media_type',
      ],
      ['/api/messages', json({ body: 'x'.repeat(64 * 1024) }), 413, 'payload_too_large'],
      ['/api/messages?limit=0', {}, 400, 'invalid_limit'],
      ['/api/messages?limit=abc', {}, 400, 'invalid_limit'],
      [`/api/messages?after=${'x'.repeat(65)}`, {}, 400, 'invalid_cursor'],
      ['/api/walls/main/messages/nope', {}, 404, 'not_found'],
      ['/no/such/route', {}, 404, 'not_found'],
      ['/api/events?backlog=-1', {}, 400, 'invalid_limit'],
    ];
    for (const [path, init, status, code] of cases) {
      const res = await fetch(`${base}${path}`, init);
      expect(res.status, path).toBe(status);
      expect(res.headers.get('content-type'), path).toMatch(/^application\/json/);
      const body = await res.json();
      expect(body.error.code, path).toBe(code);
      expect(body.error.message.length, path).toBeGreaterThan(5);
      expect(JSON.stringify(body), path).not.toMatch(/at .*\.(ts|js):\d+/);
    }
  });

  it('refuses a request body streamed past the limit without a length', async () => {
    const chunks = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 64; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(1024)));
        controller.close();
      },
    });
    const res = await fetch(`${base}/api/messages`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
  });

  it('refuses cross-site form posts', async () => {
    const crossSite: Record<string, string>[] = [
      { Origin: 'https://evil.example' },
      { 'Sec-Fetch-Site': 'cross-site' },
      { Origin: 'null' },
    ];
    for (const headers of crossSite) {
      const res = await fetch(`${base}/api/messages`, {
        method: 'POST',
        headers,
        body: new URLSearchParams({ body: 'csrf' }),
      });
      expect(res.status).toBe(403);
      expect((await res.json()).error.code).toBe('forbidden');
    }
    const sameOrigin = await fetch(`${base}/api/messages`, {
      method: 'POST',
      headers: { Origin: base },
      body: new URLSearchParams({ body: 'fine' }),
    });
    expect(sameOrigin.status).toBe(201);
  });

  it('answers browsers with a small HTML error page of the same status', async () => {
    const res = await fetch(`${base}/api/messages`, {
      method: 'POST',
      headers: { Accept: 'text/html,application/xhtml+xml' },
      body: new URLSearchParams({ body: '' }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('The body is empty');
    expect(html).toContain('invalid_body');
  });

  it('pages forward with after and limit, and resets an unknown cursor', async () => {
    const posted = [];
    for (let i = 0; i < 5; i++)
      posted.push((await postJson(base, '/api/walls/paging/messages', { body: `p${i}` })).json);
    const newest = await getJson(base, '/api/walls/paging/messages?limit=2');
    expect(newest.json.messages.map((m: { body: string }) => m.body)).toEqual(['p3', 'p4']);
    expect(newest.json).toMatchObject({ cursor: posted[4].cursor, reset: false });
    const forward = await getJson(base, `/api/walls/paging/messages?after=${posted[0].cursor}&limit=2`);
    expect(forward.json.messages.map((m: { body: string }) => m.body)).toEqual(['p1', 'p2']);
    expect(forward.json.cursor).toBe(posted[2].cursor);
    const atHead = await getJson(base, `/api/walls/paging/messages?after=${posted[4].cursor}`);
    expect(atHead.json).toEqual({ messages: [], cursor: posted[4].cursor, reset: false });
    const unknown = await getJson(base, '/api/walls/paging/messages?after=nope&limit=1');
    expect(unknown.json.reset).toBe(true);
    expect(unknown.json.messages.map((m: { body: string }) => m.body)).toEqual(['p4']);
  });

  it('serves /api/messages as the main wall', async () => {
    const { json } = await postJson(base, '/api/messages', { body: 'on main' });
    expect(json.wall).toBe('main');
    const list = await getJson(base, '/api/walls/main/messages');
    expect(list.json.messages.at(-1).id).toBe(json.id);
  });

  it('reports health, readiness and metrics', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^wallcast_posts_total \d+$/m);
    expect(metrics).toMatch(/^wallcast_subscribers \d+$/m);
  });
});

describe('tokens and limits', () => {
  it('needs the publish token to post when one is set, and leaves reading open', async () => {
    const server = await startTestServer({ WALLCAST_PUBLISH_TOKEN: 'sekrit-token' });
    try {
      expect((await postJson(server.url, '/api/messages', { body: 'x' })).status).toBe(401);
      const wrong = await postJson(server.url, '/api/messages', { body: 'x' }, { Authorization: 'Bearer nope' });
      expect(wrong.json.error.code).toBe('unauthorized');
      const right = await postJson(
        server.url,
        '/api/messages',
        { body: 'x' },
        { Authorization: 'Bearer sekrit-token' },
      );
      expect(right.status).toBe(201);
      expect((await getJson(server.url, '/api/messages')).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('answers 429 with Retry-After past the rate limit', async () => {
    const server = await startTestServer({ WALLCAST_RATE_LIMIT: '3/min' });
    try {
      for (let i = 0; i < 3; i++)
        expect((await postJson(server.url, '/api/messages', { body: `${i}` })).status).toBe(201);
      const limited = await postJson(server.url, '/api/messages', { body: 'one too many' });
      expect(limited.status).toBe(429);
      expect(limited.json.error.code).toBe('rate_limited');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });
});

function json(body: unknown): RequestInit {
  return { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
}
