/**
 * The page in Debian's Chromium, driven by playwright-core: live state,
 * merge by id, reconnect without gaps, and the id-only head event that the
 * `eventsource` npm client ignores but browsers honour.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { launchChromium } from '../support/browser.js';
import { postJson } from '../support/http.js';
import { startTestServer } from '../support/server.js';
import { withoutChromium } from '../support/services.js';

describe.skipIf(withoutChromium())('the page in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    server = await startTestServer({ WALLCAST_HEARTBEAT_MS: '1000', WALLCAST_ADMIN_TOKEN: 'admin-token-1' });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const ids = () => page.$$eval('#inbox .message', (els) => els.map((el) => el.id));

  it('goes live, shows each message once, and never runs hostile text', async () => {
    await postJson(server.url, '/api/walls/page/messages', { body: 'rendered by the server' });
    page = await browser.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(`${server.url}/w/page`);
    await page.waitForSelector('[role="status"][data-state="live"]', { timeout: 5000 });
    const live = await postJson(server.url, '/api/walls/page/messages', {
      body: '<img src=x onerror=alert(1)>',
      author: '<script>alert(2)</script>',
    });
    await page.waitForSelector(`#m${live.json.id}`, { timeout: 5000 });
    expect(await page.textContent(`#m${live.json.id} .body`)).toBe('<img src=x onerror=alert(1)>');
    expect(await page.$$('#inbox img')).toHaveLength(0);

    await page.fill('textarea[name="body"]', 'typed in the page');
    await page.press('textarea[name="body"]', 'Enter');
    await page.waitForFunction(() => document.body.textContent?.includes('typed in the page'), null, { timeout: 5000 });
    await page.waitForTimeout(300);
    const shown = await ids();
    expect(shown).toHaveLength(3);
    expect(new Set(shown).size).toBe(3);
    expect(dialogs).toEqual([]);
  });

  it('shows reconnecting, then catches up without a gap or a duplicate', async () => {
    const before = await ids();
    server.deps.hub.disconnectAll();
    await page.waitForSelector('[role="status"][data-state="reconnecting"]', { timeout: 5000 });
    const missed = await postJson(server.url, '/api/walls/page/messages', { body: 'posted while away' });
    await page.waitForSelector('[role="status"][data-state="live"]', { timeout: 10000 });
    await page.waitForSelector(`#m${missed.json.id}`, { timeout: 5000 });
    await page.waitForTimeout(300);
    expect(await ids()).toEqual([...before, `m${missed.json.id}`]);
  });

  it('removes a message when a moderator deletes it', async () => {
    const [first] = await ids();
    const res = await fetch(`${server.url}/api/walls/page/messages/${first?.slice(1)}`, {
      method: 'DELETE',
      headers: { Authorization: 'Bearer admin-token-1' },
    });
    expect(res.status).toBe(204);
    await page.waitForSelector(`#${first}`, { state: 'detached', timeout: 5000 });
  });

  it('resumes from the id-only head event of a fresh stream (browsers honour it)', async () => {
    const probe = await browser.newPage();
    await probe.goto(`${server.url}/healthz`);
    await probe.evaluate((url) => {
      const w = window as unknown as { got: string[]; opens: number; source: EventSource };
      w.got = [];
      w.opens = 0;
      w.source = new EventSource(url);
      w.source.onopen = () => {
        w.opens++;
      };
      w.source.onmessage = (event) => w.got.push(JSON.parse(event.data).body);
    }, `${server.url}/api/walls/idonly/events?backlog=0`);
    await probe.waitForFunction(() => (window as unknown as { opens: number }).opens === 1, null, { timeout: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    server.deps.hub.disconnectAll();
    await postJson(server.url, '/api/walls/idonly/messages', { body: 'posted before the reconnect' });
    await probe.waitForFunction(() => (window as unknown as { got: string[] }).got.length === 1, null, {
      timeout: 10000,
    });
    expect(await probe.evaluate(() => (window as unknown as { got: string[] }).got)).toEqual([
      'posted before the reconnect',
    ]);
    await probe.close();
  });
});
