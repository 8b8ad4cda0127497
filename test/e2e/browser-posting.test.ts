/**
 * Posting from the page on bad days, in Chromium: the server restarting
 * under a post, an answer lost after the message was stored, a server that
 * never answers, and the refusals a person must read (429, 503). A post
 * never hangs, says what happened in words, and is stored once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/message.js';
import type { RunningServer } from '../../src/server.js';
import { launchChromium, live, openTab, shownBodies, typeAndSend, waitForBody } from '../support/browser.js';
import { getJson, postJson } from '../support/http.js';
import { startTestServer } from '../support/server.js';
import { withoutChromium } from '../support/services.js';

const storedBodies = async (base: string, wall: string): Promise<string[]> =>
  (await getJson(base, `/api/walls/${wall}/messages`)).json.messages.map((m: Message) => m.body);

describe.skipIf(withoutChromium())('posting from the page when things go wrong', () => {
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    browser = await launchChromium();
    context = await browser.newContext();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('keeps a post through a server restart: it says so, retries, and the message is stored once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wallcast-page-restart-'));
    const env = { WALLCAST_STORE: `sqlite:${join(dir, 'wall.db')}` };
    let server = await startTestServer(env);
    try {
      const { page, failures } = await openTab(context, `${server.url}/w/restart`);
      await server.close();
      await page.waitForSelector('[role="status"][data-state="reconnecting"]', { timeout: 5000 });
      await typeAndSend(page, 'sent while the server was down');
      // A second Enter while it is out is the same post, not another.
      await page.press('textarea[name="body"]', 'Enter');
      expect(await page.isDisabled('#compose button[type="submit"]')).toBe(true);
      await page.waitForFunction(
        () => document.getElementById('compose-note')?.textContent?.includes('Trying again'),
        null,
        {
          timeout: 5000,
        },
      );
      const note = (await page.textContent('#compose-note')) as string;
      expect(note).toMatch(
        /^Cannot reach the server at 127\.0\.0\.1:\d+: it may be down or restarting\. Trying again…$/,
      );

      server = await startTestServer({ ...env, PORT: String(server.port) });
      await waitForBody(page, 'sent while the server was down', 10_000);
      await live(page, 10_000);
      expect(await page.isDisabled('#compose button[type="submit"]')).toBe(false);
      expect(await page.isHidden('#compose-error')).toBe(true);
      expect(await storedBodies(server.url, 'restart')).toEqual(['sent while the server was down']);
      expect(await shownBodies(page)).toEqual(['sent while the server was down']);
      // The only failures were the requests made while the server was down.
      expect(failures.every((failure) => /ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE/.test(failure))).toBe(true);
      await page.close();
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('against a running server', () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startTestServer();
    });
    afterAll(() => server?.close());

    it('retries a post whose answer was lost after it was stored, with the same key: stored once, shown once', async () => {
      const { page } = await openTab(context, `${server.url}/w/lost-answer`);
      const keys: string[] = [];
      let attempts = 0;
      await page.route('**/api/walls/lost-answer/messages', async (route) => {
        keys.push((await route.request().headerValue('idempotency-key')) ?? '');
        // The first reaches the server and is stored; its answer never comes back.
        if (++attempts === 1) {
          await route.fetch();
          await route.abort('connectionreset');
        } else {
          await route.continue();
        }
      });
      await typeAndSend(page, 'the answer was lost');
      await waitForBody(page, 'the answer was lost');
      // Shown as soon as the stream brings it; the post itself ends with the retry's answer.
      await page.waitForSelector('#compose[data-state="idle"]', { timeout: 5000 });
      expect(await page.inputValue('textarea[name="body"]')).toBe('');
      expect(await page.isHidden('#compose-error')).toBe(true);
      expect(keys).toHaveLength(2);
      expect(keys[1]).toBe(keys[0]);
      expect(await storedBodies(server.url, 'lost-answer')).toEqual(['the answer was lost']);
      await page.waitForTimeout(200);
      expect(await shownBodies(page)).toEqual(['the answer was lost']);
      await page.close();
    });

    it('gives up on a server that never answers after 10 s, says so, and keeps the text and its key', async () => {
      const page = await context.newPage();
      await page.clock.install();
      await page.goto(`${server.url}/w/no-answer`);
      await live(page);
      const keys: string[] = [];
      await page.route('**/api/walls/no-answer/messages', async (route) => {
        keys.push((await route.request().headerValue('idempotency-key')) ?? '');
        if (keys.length === 1) return; // never answered
        await route.continue();
      });
      await typeAndSend(page, 'into the void');
      await page.waitForFunction(() => document.querySelector('#compose')?.getAttribute('data-state') === 'sending');
      await page.clock.fastForward(10_000);
      await page.waitForSelector('#compose-error:not([hidden])', { timeout: 5000 });
      expect(await page.textContent('#compose-error')).toBe(
        'The server did not answer within 10 s. Your message is kept: press Send to send it again, and it will be stored once.',
      );
      expect(await page.inputValue('textarea[name="body"]')).toBe('into the void');
      expect(await page.isDisabled('#compose button[type="submit"]')).toBe(false);
      await page.click('#compose button[type="submit"]');
      await waitForBody(page, 'into the void');
      expect(keys).toHaveLength(2);
      expect(keys[1]).toBe(keys[0]);
      await page.close();
    });

    it('shows a 503 with when to retry', async () => {
      const { page } = await openTab(context, `${server.url}/w/refused`);
      await page.route('**/api/walls/refused/messages', (route) =>
        route.fulfill({
          status: 503,
          headers: { 'Content-Type': 'application/json', 'Retry-After': '30' },
          body: JSON.stringify({ error: { code: 'unavailable', message: 'The message store is not available.' } }),
        }),
      );
      await typeAndSend(page, 'not now');
      await page.waitForSelector('#compose-error:not([hidden])', { timeout: 5000 });
      expect(await page.textContent('#compose-error')).toBe('The message store is not available. Try again in 30 s.');
      expect(await page.inputValue('textarea[name="body"]')).toBe('not now');
      await page.close();
    });
  });

  it('shows a 429 in the server’s words, with when to retry', async () => {
    const server = await startTestServer({ WALLCAST_RATE_LIMIT: '2/min' });
    try {
      const { page } = await openTab(context, `${server.url}/w/limited`);
      // Two a minute for this client: this page's post is the third.
      await postJson(server.url, '/api/walls/limited/messages', { body: 'one' });
      await postJson(server.url, '/api/walls/limited/messages', { body: 'two' });
      await typeAndSend(page, 'three');
      await page.waitForFunction(
        () => document.getElementById('compose-error')?.textContent?.startsWith('Too many posts'),
        null,
        { timeout: 5000 },
      );
      expect(await page.textContent('#compose-error')).toMatch(/^Too many posts; try again in \d+ s\.$/);
      expect(await page.isDisabled('#compose button[type="submit"]')).toBe(false);
      await page.close();
    } finally {
      await server.close();
    }
  });
});
