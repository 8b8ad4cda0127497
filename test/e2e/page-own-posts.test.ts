/**
 * The reader's own posts say "you" on their group (issue 18) in the two
 * cases the page's own tests of it did not reach: a signed-in reader's
 * posts, which the server marks on their group, kept when the page lays
 * the days out again in the reader's time zone; and a post whose answer
 * comes before its copy in the stream and starts a group of its own.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthServer, startAuthServer } from '../support/auth-server.js';
import { launchChromium, typeAndSend, waitForBody } from '../support/browser.js';
import { withoutChromium } from '../support/services.js';

describe.skipIf(withoutChromium())('the reader’s own posts', () => {
  let server: AuthServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startAuthServer({ WALLCAST_OPEN_WALLS: '*' });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** The bodies of the messages in groups that say "you". */
  const yours = (page: import('playwright-core').Page) =>
    page.$$eval('#inbox .group.own', (groups) =>
      groups
        .filter((group) => group.querySelector('.byline .you') !== null)
        .flatMap((group) => [...group.querySelectorAll('.message .body')].map((body) => body.textContent)),
    );

  it('keeps a signed-in reader’s "you" when the page makes the days again in their time zone', async () => {
    const token = await server.token({ name: 'Ann', wallcast: { post: ['signed'] } });
    const posted = await server.call('/api/walls/signed/messages', { bearer: token, body: { body: 'signed words' } });
    expect(posted.status, posted.text).toBe(201);
    await server.call('/api/walls/signed/messages', { body: { body: 'a guest’s words', author: 'Guest' } });
    for (const timezoneId of ['UTC', 'Pacific/Auckland']) {
      const context = await browser.newContext({ timezoneId });
      await context.addCookies([{ name: 'wallcast_token', value: token, url: server.url }]);
      const page = await context.newPage();
      await page.goto(`${server.url}/w/signed`);
      await page.waitForSelector('#status[data-state="live"]', { timeout: 5000 });
      expect(await yours(page), timezoneId).toEqual(['signed words']);
      await context.close();
    }
  });

  it('says "you" on a post that starts a group, when its answer comes before the stream’s copy', async () => {
    await server.call('/api/walls/answered/messages', { body: { body: 'before', author: 'Guest' } });
    const context = await browser.newContext();
    const page = await context.newPage();
    // No stream: the post's answer is all the page hears of it.
    await page.route(/\/api\/(walls\/[^/]+\/)?events/, (route) => route.abort());
    await page.goto(`${server.url}/w/answered`);
    await page.fill('#compose-author', 'Alex');
    await typeAndSend(page, 'my own words');
    await waitForBody(page, 'my own words');
    expect(await yours(page)).toEqual(['my own words']);
    await context.close();
  });
});
