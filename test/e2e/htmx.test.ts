/**
 * The README's htmx example, for real: a page on another origin (a plain
 * static server here) with htmx 2 and its SSE extension from npm, following
 * a wall's HTML stream in Debian's Chromium, with CORS allowed for it.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { postJson } from '../support/http.js';
import { startTestServer } from '../support/server.js';
import { CHROMIUM, withoutChromium } from '../support/services.js';

const HTMX = readFileSync(new URL('../../node_modules/htmx.org/dist/htmx.min.js', import.meta.url));
const HTMX_SSE = readFileSync(new URL('../../node_modules/htmx-ext-sse/dist/sse.js', import.meta.url));

/** The README's five lines, with the wall's URL. */
const page = (stream: string) => `<!doctype html>
<script src="/htmx.js"></script>
<script src="/sse.js"></script>
<div id="wall" hx-ext="sse" sse-connect="${stream}" sse-swap="message,delete" hx-swap="beforeend"></div>
`;

describe.skipIf(withoutChromium())('the htmx example in Chromium', () => {
  let site: http.Server;
  let origin: string;
  let server: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    let stream = '';
    site = http.createServer((req, res) => {
      const files: Record<string, [string, Buffer | string]> = {
        '/': ['text/html', page(stream)],
        '/htmx.js': ['text/javascript', HTMX],
        '/sse.js': ['text/javascript', HTMX_SSE],
      };
      const file = files[req.url ?? ''];
      if (file === undefined) return void res.writeHead(404).end();
      res.writeHead(200, { 'Content-Type': file[0] }).end(file[1]);
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    server = await startTestServer({ WALLCAST_CORS_ORIGINS: origin, WALLCAST_ADMIN_TOKEN: 'admin-token-1' });
    stream = `${server.url}/api/walls/hx/events?format=html`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    site?.close();
  });

  it('shows each message as it is posted, escaped, and removes a deleted one', async () => {
    const before = await postJson(server.url, '/api/walls/hx/messages', { body: 'already there' });
    const tab = await browser.newPage();
    await tab.goto(`${origin}/`);
    await tab.waitForSelector(`#wall #m${before.json.id}`, { timeout: 5000 });
    const live = await postJson(server.url, '/api/walls/hx/messages', {
      body: '<img src=x onerror=alert(1)> live',
      author: 'htmx',
    });
    await tab.waitForSelector(`#wall #m${live.json.id}`, { timeout: 5000 });
    expect(await tab.textContent(`#m${live.json.id} .body`)).toBe('<img src=x onerror=alert(1)> live');
    expect(await tab.$$('#wall img')).toHaveLength(0);
    const res = await fetch(`${server.url}/api/walls/hx/messages/${before.json.id}`, {
      method: 'DELETE',
      headers: { Authorization: 'Bearer admin-token-1' },
    });
    expect(res.status).toBe(204);
    await tab.waitForSelector(`#m${before.json.id}`, { state: 'detached', timeout: 5000 });
    expect(await tab.$$eval('#wall .message', (els) => els.map((el) => el.id))).toEqual([`m${live.json.id}`]);
    await tab.close();
  });
});
