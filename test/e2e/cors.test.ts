/**
 * Pages on other origins using the API (`WALLCAST_CORS_ORIGINS`): the
 * preflight, the headers on streams, reads, posts and errors, none on
 * pages, and form posts only from origins named by the operator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { startTestServer } from '../support/server.js';
import { RawSse } from '../support/sse-reader.js';

const ELSEWHERE = 'http://app.example:3000';

const preflight = (base: string, origin: string, path = '/api/walls/x/messages') =>
  fetch(`${base}${path}`, {
    method: 'OPTIONS',
    headers: {
      Origin: origin,
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'content-type, idempotency-key',
    },
  });

describe('cross-origin use, allowed for one origin', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ WALLCAST_CORS_ORIGINS: ELSEWHERE });
  });
  afterAll(() => server.close());

  it('answers the preflight of an allowed origin, and not of another', async () => {
    const allowed = await preflight(server.url, ELSEWHERE);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ELSEWHERE);
    expect(allowed.headers.get('access-control-allow-methods')).toContain('POST');
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/Idempotency-Key/);
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    const other = await preflight(server.url, 'https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('lets the allowed origin read history, post JSON and see why a post failed', async () => {
    const headers = { Origin: ELSEWHERE, 'Content-Type': 'application/json', 'Idempotency-Key': 'cors-1' };
    const posted = await fetch(`${server.url}/api/walls/x/messages`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ body: 'from elsewhere' }),
    });
    expect(posted.status).toBe(201);
    expect(posted.headers.get('access-control-allow-origin')).toBe(ELSEWHERE);
    expect(posted.headers.get('access-control-expose-headers')).toMatch(/Location/);
    const history = await fetch(`${server.url}/api/walls/x/messages`, { headers: { Origin: ELSEWHERE } });
    expect(history.headers.get('access-control-allow-origin')).toBe(ELSEWHERE);
    expect(history.headers.get('vary')).toMatch(/Origin/);
    const refused = await fetch(`${server.url}/api/walls/x/messages`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ body: '' }),
    });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('access-control-allow-origin')).toBe(ELSEWHERE);
  });

  it('sends the CORS headers in a stream’s own head, and the stream works', async () => {
    const sse = new RawSse(`${server.url}/api/walls/x/events?backlog=1`, { Origin: ELSEWHERE });
    await sse.waitForMessages(1, 'the backlog');
    expect(sse.status).toBe(200);
    expect(sse.headers['access-control-allow-origin']).toBe(ELSEWHERE);
    // An EventSource opened withCredentials (htmx's SSE extension does) needs this from a named origin.
    expect(sse.headers['access-control-allow-credentials']).toBe('true');
    expect(sse.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    await fetch(`${server.url}/api/walls/x/messages`, {
      method: 'POST',
      headers: { Origin: ELSEWHERE, 'Content-Type': 'application/json' },
      body: JSON.stringify({ body: 'live' }),
    });
    await sse.waitForMessages(2, 'live');
    sse.close();
    const several = new RawSse(`${server.url}/api/events?walls=x,y`, { Origin: ELSEWHERE });
    await several.opened;
    expect(several.headers['access-control-allow-origin']).toBe(ELSEWHERE);
    several.close();
  });

  it('never sends CORS headers with pages, and takes form posts from the named origin only', async () => {
    const page = await fetch(`${server.url}/w/x`, { headers: { Origin: ELSEWHERE } });
    expect(page.headers.get('access-control-allow-origin')).toBeNull();
    const form = (origin: string) =>
      fetch(`${server.url}/api/walls/x/messages`, {
        method: 'POST',
        headers: { Origin: origin },
        body: new URLSearchParams({ body: 'a form elsewhere' }),
      });
    expect((await form(ELSEWHERE)).status).toBe(201);
    expect((await form('https://evil.example')).status).toBe(403);
  });
});

describe('cross-origin use, by default and with *', () => {
  it('is refused by default: no preflight, no headers', async () => {
    const server = await startTestServer();
    try {
      expect((await preflight(server.url, ELSEWHERE)).status).toBe(404);
      const read = await fetch(`${server.url}/api/messages`, { headers: { Origin: ELSEWHERE } });
      expect(read.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await server.close();
    }
  });

  it('allows any origin with *, but not form posts from other sites', async () => {
    const server = await startTestServer({ WALLCAST_CORS_ORIGINS: '*' });
    try {
      const read = await fetch(`${server.url}/api/messages`, { headers: { Origin: 'https://any.example' } });
      expect(read.headers.get('access-control-allow-origin')).toBe('*');
      expect(read.headers.get('access-control-allow-credentials')).toBeNull();
      const form = await fetch(`${server.url}/api/messages`, {
        method: 'POST',
        headers: { Origin: 'https://any.example' },
        body: new URLSearchParams({ body: 'csrf' }),
      });
      expect(form.status).toBe(403);
    } finally {
      await server.close();
    }
  });
});
