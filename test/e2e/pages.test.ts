import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { postJson } from '../support/http.js';
import { claims, secretText, signHmac } from '../support/jwt.js';
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
    const res = await fetch(`${base}/w/not!valid`, { headers: { Accept: 'text/html' } });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('A wall name is');
  });

  it('serves the page script and every module it imports as JavaScript, the client among them', async () => {
    const page = await (await fetch(`${base}/w/modules`)).text();
    const scripts = [...page.matchAll(/(?:src|href)="(\/static\/[a-z-]+\.js)"/g)].map((m) => m[1] as string);
    expect(scripts).toContain('/static/wall.js');
    expect(scripts).toContain('/static/wallcast-client.js');
    for (const path of new Set(scripts)) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toMatch(/^text\/javascript/);
      const imports = [...(await res.text()).matchAll(/^import .* from '\.\/([a-z-]+\.js)';$/gm)].map(
        (m) => `/static/${m[1]}`,
      );
      for (const imported of imports) expect(scripts, `${path} imports ${imported}`).toContain(imported);
    }
    expect(await (await fetch(`${base}/static/wallcast-client.js`)).text()).toContain('new this.#EventSource(');
  });

  it('runs only its own script and style: no inline script or style on the page', async () => {
    const res = await fetch(`${base}/w/csp`);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).toMatch(/style-src 'self'(;|$)/);
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  });

  it('has a favicon: an SVG the page links to, and /favicon.ico for whoever asks without reading the page', async () => {
    const html = await (await fetch(`${base}/`)).text();
    expect(html).toContain('<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">');
    const svg = await fetch(`${base}/static/favicon.svg`);
    expect(svg.status).toBe(200);
    expect(svg.headers.get('content-type')).toBe('image/svg+xml');
    const ico = await fetch(`${base}/favicon.ico`);
    expect(ico.status).toBe(200);
    expect(ico.headers.get('content-type')).toBe('image/x-icon');
    // An ICO file: reserved 0, type 1 (icon), then the number of images.
    expect([...new Uint8Array(await ico.arrayBuffer()).slice(0, 4)]).toEqual([0, 0, 1, 0]);
  });

  it('renders each message with its time, an empty wall with its empty state, and no maxlength on the body', async () => {
    const posted = await postJson(base, '/api/walls/timed/messages', { body: 'with a time' });
    const html = await (await fetch(`${base}/w/timed`)).text();
    expect(html).toContain(
      `<time datetime="${posted.json.createdAt}" title="${posted.json.createdAt.slice(0, 10)} ${posted.json.createdAt.slice(11, 16)} UTC">`,
    );
    expect(html).toContain(`${posted.json.html.slice(0, -'</div>'.length)}<time `);
    const empty = await (await fetch(`${base}/w/nothing-yet`)).text();
    expect(empty).toContain('<p class="empty-state">No messages yet.');
    expect(empty).not.toContain('class="message"');
    expect(empty).toMatch(/<textarea[^>]*name="body"/);
    expect(empty).not.toMatch(/<textarea[^>]*maxlength/);
    expect(empty).toContain('data-max-body-chars="2000"');
  });

  it('sends the no-JS error page back to the wall it came from, through the Referer when it has no other clue', async () => {
    const failed = await fetch(`${base}/api/walls/back-here/messages`, {
      method: 'POST',
      headers: { Accept: 'text/html', Origin: base },
      body: new URLSearchParams({ body: 'x'.repeat(2001), next: '/w/back-here' }),
    });
    expect(failed.status).toBe(400);
    // The failed request's own path names its wall.
    expect(/<a id="back" href="([^"]+)"/.exec(await failed.text())?.[1]).toBe('/w/back-here');
    const cases: [string | undefined, string][] = [
      [`${base}/api/messages`, '/'],
      [`${base}/w/other`, '/w/other'],
      [`${base}/w/NOT_VALID`, '/'],
      ['https://elsewhere.example/w/other', '/'],
      [undefined, '/'],
    ];
    for (const [referer, location] of cases) {
      const res = await fetch(`${base}/back`, { headers: referer ? { Referer: referer } : {}, redirect: 'manual' });
      expect(res.headers.get('location'), referer).toBe(location);
    }
  });
});

describe('the page of a server that needs a publish token', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ WALLCAST_PUBLISH_TOKEN: 'publish-token-1' });
  });
  afterAll(() => server.close());

  it('says that posting needs the token instead of offering a form that would fail', async () => {
    const html = await (await fetch(`${server.url}/w/closed`)).text();
    expect(html).toContain('Posting on this wall needs a publish token');
    // No form that posts (the list of walls has one that opens a wall: a GET).
    expect(html).not.toMatch(/<form[^>]*method="post"/);
    expect(html).not.toContain('id="compose"');
    expect(html).toContain('data-cursor=');
  });
});

describe('the page of a private wall (issue 16)', () => {
  const SECRET = secretText(40);
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ WALLCAST_JWT_SECRET: SECRET, WALLCAST_PRIVATE_WALLS: 'team-*' });
  });
  afterAll(() => server.close());

  const cookieOf = async (grants: Record<string, string[]>) =>
    `wallcast_token=${await signHmac(claims({ name: 'Ann', wallcast: grants }), SECRET)}`;

  it('shows no message without a token that reads it: a small page that says the wall is private', async () => {
    const token = await signHmac(claims({ name: 'Ann', wallcast: { post: ['team-*'] } }), SECRET);
    await postJson(
      server.url,
      '/api/walls/team-a/messages',
      { body: 'the secret plan' },
      { Authorization: `Bearer ${token}` },
    );
    const res = await fetch(`${server.url}/w/team-a`, { headers: { Accept: 'text/html' } });
    expect(res.status).toBe(401);
    const html = await res.text();
    expect(html).toContain('private');
    expect(html).toContain('The site that runs it gives access to its people');
    expect(html).not.toContain('the secret plan');
    // The way back leads away from the refused page, not to it.
    expect(html).toMatch(/<a [^>]*id="back" href="\/"/);
    const reader = await fetch(`${server.url}/w/team-a`, { headers: { Cookie: await cookieOf({ read: ['team-a'] }) } });
    expect(reader.status).toBe(200);
    const readable = await reader.text();
    expect(readable).toContain('the secret plan');
    // Read, but not post: the form says why instead of failing.
    expect(readable).toContain('this token can read #team-a but not post to it');
    expect(readable).not.toContain('id="compose"');
  });

  it('says "Posting as Ann" to a reader whose token may post, and asks a reader without one for a token', async () => {
    const writer = await fetch(`${server.url}/w/team-b`, {
      headers: { Cookie: await cookieOf({ read: ['team-*'], post: ['team-*'] }) },
    });
    const html = await writer.text();
    expect(html).toContain('Posting as <b><bdi>Ann</bdi></b>');
    expect(html).toContain('id="compose"');
    const open = await (await fetch(`${server.url}/w/public`)).text();
    expect(open).toContain('Posting on this wall needs a token that may post to it');
    expect(open).not.toContain('id="compose"');
  });
});
