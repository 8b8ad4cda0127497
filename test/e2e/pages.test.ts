import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { postJson } from '../support/http.js';
import { startTestServer } from '../support/server.js';

describe('server-rendered pages', () => {
  let server: RunningServer;
  let base: string;
  beforeAll(async () => {
    server = await startTestServer();
    base = server.url;
  });
  afterAll(() => server.close());

  it('renders the newest messages with hostile text escaped, and the resume cursor', async () => {
    const hostile = await postJson(base, '/api/walls/xss/messages', {
      body: '<img src=x onerror=alert(1)> "quoted" </main><script>alert(2)</script>',
      author: '<b onclick=x>mallory</b>',
    });
    const res = await fetch(`${base}/w/xss`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<b onclick');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain(`<div class="message" id="m${hostile.json.id}">`);
    expect(html).toContain(`data-cursor="${hostile.json.cursor}"`);
    expect(html).toMatch(/role="status"[^>]*data-state="offline"|data-state="offline"[^>]*role="status"/);
  });

  it('sets an _xsrf cookie of letters and digits, readable by script, SameSite=Lax, Path=/', async () => {
    const res = await fetch(`${base}/`);
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^_xsrf=[A-Za-z0-9]+; /);
    expect(cookie).toContain('Path=/');
    expect(cookie).toContain('SameSite=Lax');
    expect(cookie).not.toMatch(/HttpOnly/i);
  });

  it('round-trips the no-JS form: post, 303 back to the page, the message on it', async () => {
    const page = await (await fetch(`${base}/w/nojs`)).text();
    const action = /<form id="compose" method="post" action="([^"]+)"/.exec(page)?.[1];
    const next = /name="next" value="([^"]+)"/.exec(page)?.[1];
    expect(action).toBe('/api/walls/nojs/messages');
    const posted = await fetch(`${base}${action}`, {
      method: 'POST',
      headers: { Accept: 'text/html', Origin: base },
      body: new URLSearchParams({ body: 'posted without JavaScript', author: 'noscript', next: next as string }),
      redirect: 'manual',
    });
    expect(posted.status).toBe(303);
    expect(posted.headers.get('location')).toMatch(/^\/w\/nojs#m[A-Za-z0-9_-]{21}$/);
    const after = await (await fetch(`${base}/w/nojs`)).text();
    expect(after).toContain('posted without JavaScript');
  });

  it('answers an invalid wall page with an HTML error page', async () => {
    const res = await fetch(`${base}/w/NOT_VALID`, { headers: { Accept: 'text/html' } });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('A wall name is');
  });

  it('serves the page script as a JavaScript module', async () => {
    const res = await fetch(`${base}/static/wall.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await res.text()).toContain('new EventSource(');
  });
});
