/** The Tornado chat demo's own protocol, as its chat.js speaks it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { within } from '../support/deadlines.js';
import { postJson } from '../support/http.js';
import { startTestServer } from '../support/server.js';

describe('Tornado chat demo compatibility', () => {
  let server: RunningServer;
  let base: string;
  let xsrf: string;
  beforeAll(async () => {
    server = await startTestServer({ WALLCAST_LONGPOLL_MS: '600', WALLCAST_STORE: 'memory' });
    base = server.url;
    const cookie = (await fetch(`${base}/`)).headers.get('set-cookie') ?? '';
    xsrf = /_xsrf=([^;]*)/.exec(cookie)?.[1] ?? '';
    // chat.js reads it with /\b_xsrf=([^;]*)\b/: letters and digits only.
    expect(xsrf).toMatch(/^[A-Za-z0-9]+$/);
  });
  afterAll(() => server.close());

  const form = (path: string, fields: Record<string, string>, cookie = `_xsrf=${xsrf}`) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { Cookie: cookie },
      body: new URLSearchParams(fields),
      redirect: 'manual',
    });

  it('posts with /a/message/new and answers {id, body, html}', async () => {
    const res = await form('/a/message/new', { body: 'from chat.js', _xsrf: xsrf });
    expect(res.status).toBe(200);
    const message = await res.json();
    expect(Object.keys(message).sort()).toEqual(['body', 'html', 'id']);
    expect(message.body).toBe('from chat.js');
    const onMain = await (await fetch(`${base}/api/walls/main/messages/${message.id}`)).json();
    expect(onMain.html).toBe(message.html);
  });

  it('redirects to a safe next and refuses an unsafe one', async () => {
    const res = await form('/a/message/new', { body: 'with next', next: '/', _xsrf: xsrf });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
    expect((await form('/a/message/new', { body: 'x', next: '//evil.example', _xsrf: xsrf })).status).toBe(400);
  });

  it('refuses a post whose _xsrf does not match the cookie, and accepts the X-XSRFToken header', async () => {
    expect((await form('/a/message/new', { body: 'no token' })).status).toBe(403);
    expect((await form('/a/message/new', { body: 'wrong', _xsrf: 'abc' })).status).toBe(403);
    expect((await form('/a/message/new', { body: 'no cookie', _xsrf: xsrf }, '')).status).toBe(403);
    const header = await fetch(`${base}/a/message/new`, {
      method: 'POST',
      headers: { Cookie: `_xsrf=${xsrf}`, 'X-XSRFToken': xsrf },
      body: new URLSearchParams({ body: 'header token' }),
    });
    expect(header.status).toBe(200);
  });

  it('long-polls /a/message/updates until a message comes after the cursor', async () => {
    const latest = await (await form('/a/message/new', { body: 'latest', _xsrf: xsrf })).json();
    const started = Date.now();
    const poll = form('/a/message/updates', { cursor: latest.id, _xsrf: xsrf });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const posted = await postJson(base, '/api/messages', { body: 'wakes the poll' });
    const res = await within('poll answered', 3000, poll);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect(await res.json()).toEqual({
      messages: [{ id: posted.json.id, body: 'wakes the poll', html: posted.json.html }],
    });
  });

  it('answers an unknown or missing cursor with the recent history at once', async () => {
    const cursors: Record<string, string>[] = [{ cursor: 'unknown-id' }, {}];
    for (const fields of cursors) {
      const res = await within('immediate answer', 1000, form('/a/message/updates', { ...fields, _xsrf: xsrf }));
      const body = await res.json();
      expect(body.messages.length).toBeGreaterThan(0);
      expect(body.messages.at(-1).body).toBe('wakes the poll');
    }
  });

  it('answers {} when nothing new came before the long-poll timeout', async () => {
    const { json } = await postJson(base, '/api/messages', { body: 'newest' });
    const started = Date.now();
    const res = await within('timeout answer', 3000, form('/a/message/updates', { cursor: json.id, _xsrf: xsrf }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    expect(await res.json()).toEqual({});
  });

  it('waits on an empty wall instead of answering with nothing', async () => {
    const empty = await startTestServer({ WALLCAST_LONGPOLL_MS: '5000' });
    try {
      const cookie = /_xsrf=([^;]*)/.exec((await fetch(`${empty.url}/`)).headers.get('set-cookie') ?? '')?.[1];
      const poll = fetch(`${empty.url}/a/message/updates`, {
        method: 'POST',
        headers: { Cookie: `_xsrf=${cookie}` },
        body: new URLSearchParams({ _xsrf: cookie as string }),
      });
      await new Promise((resolve) => setTimeout(resolve, 150));
      await postJson(empty.url, '/api/messages', { body: 'first ever' });
      const res = await within('poll answered by the first message', 3000, poll);
      expect((await res.json()).messages.map((m: { body: string }) => m.body)).toEqual(['first ever']);
    } finally {
      await empty.close();
    }
  });

  it('ends waiting long polls with {} when the server drains', async () => {
    const draining = await startTestServer({ WALLCAST_LONGPOLL_MS: '20000' });
    const cookie = /_xsrf=([^;]*)/.exec((await fetch(`${draining.url}/`)).headers.get('set-cookie') ?? '')?.[1];
    const latest = await postJson(draining.url, '/api/messages', { body: 'x' });
    const poll = fetch(`${draining.url}/a/message/updates`, {
      method: 'POST',
      headers: { Cookie: `_xsrf=${cookie}` },
      body: new URLSearchParams({ cursor: latest.json.id, _xsrf: cookie as string }),
    });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const closed = draining.close();
    const res = await within('poll ended by the drain', 3000, poll);
    expect(await res.json()).toEqual({});
    await within('server closed', 6000, closed);
  });
});
