/**
 * The page as a reader keeps it open, in Chromium: where it scrolls, its
 * times, its empty state, the length counted as the server counts it, the
 * token notice, the favicon, and the no-JS round trips.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessage } from '../../src/posting.js';
import type { RunningServer } from '../../src/server.js';
import { launchChromium, live, openTab, postAndTime, shows, waitForBody } from '../support/browser.js';
import { getJson, postJson } from '../support/http.js';
import { startTestServer } from '../support/server.js';
import { withoutChromium } from '../support/services.js';

/** Where the inbox is scrolled, and whether element `selector` is on screen and not under anything (the compose box). */
function scrollOf(page: Page, selector?: string) {
  return page.evaluate((selector) => {
    const inbox = document.getElementById('inbox') as HTMLElement;
    const fromBottom = inbox.scrollHeight - inbox.scrollTop - inbox.clientHeight;
    let visible: boolean | undefined;
    if (selector !== undefined) {
      const element = document.querySelector(selector) as HTMLElement;
      const box = element.getBoundingClientRect();
      const view = inbox.getBoundingClientRect();
      const inView = box.top >= view.top - 1 && box.bottom <= view.bottom + 1;
      // What a click at its middle would hit: the message itself, not a box drawn over it.
      const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
      visible = inView && hit !== null && element.contains(hit);
    }
    const jump = document.getElementById('new-messages');
    return {
      fromBottom,
      scrolled: inbox.scrollHeight > inbox.clientHeight,
      visible,
      jump: jump === null || jump.hidden ? '' : jump.textContent,
    };
  }, selector);
}

describe.skipIf(withoutChromium())('the page a reader keeps open', () => {
  let server: RunningServer;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 900, height: 600 } });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const post = async (wall: string, body: string) =>
    (await postJson(server.url, `/api/walls/${wall}/messages`, { body })).json;

  it('opens at the newest, follows at the bottom, counts new ones when scrolled up, and keeps the own post in view', async () => {
    for (let i = 0; i < 40; i++) await post('scroll', `older ${i}`);
    const { page, failures } = await openTab(context, `${server.url}/w/scroll`);
    const newest = await page.$$eval('#inbox .message', (messages) => messages.at(-1)?.id);
    let at = await scrollOf(page, `#${newest}`);
    expect(at.scrolled).toBe(true);
    expect(at.fromBottom).toBeLessThan(2);
    expect(at.visible).toBe(true);

    const followed = await post('scroll', 'while at the bottom');
    await shows(page, followed.id);
    at = await scrollOf(page, `#m${followed.id}`);
    expect(at.fromBottom).toBeLessThan(2);
    expect(at.visible).toBe(true);
    expect(at.jump).toBe('');

    await page.$eval('#inbox', (inbox) => {
      inbox.scrollTop = 0;
    });
    const unseen = [await post('scroll', 'unseen 1'), await post('scroll', 'unseen 2')];
    await page.waitForFunction(
      () => document.getElementById('new-messages')?.textContent === '2 new messages ↓',
      null,
      {
        timeout: 5000,
      },
    );
    at = await scrollOf(page, `#m${unseen[1].id}`);
    // The reader stays where they were reading.
    expect(await page.$eval('#inbox', (inbox) => inbox.scrollTop)).toBe(0);
    expect(at.visible).toBe(false);
    await page.click('#new-messages');
    at = await scrollOf(page, `#m${unseen[1].id}`);
    expect(at.visible).toBe(true);
    expect(at.jump).toBe('');

    await page.$eval('#inbox', (inbox) => {
      inbox.scrollTop = 0;
    });
    await postAndTime(page, 'my own post');
    const own = await waitForBody(page, 'my own post');
    at = await scrollOf(page, `#${own}`);
    expect(at.visible).toBe(true);
    expect(at.jump).toBe('');
    expect(failures).toEqual([]);
    await page.close();
  });

  it('shows times as <time datetime> relative to now, the exact time on hover, kept fresh', async () => {
    const twoMinutesAgo = new Date(Date.now() - 125_000);
    const old = await server.deps.store.append(createMessage('times', 'ann', 'two minutes old', twoMinutesAgo));
    const page = await context.newPage();
    await page.clock.install();
    await page.goto(`${server.url}/w/times`);
    await live(page);
    const time = `#m${old.id} time`;
    expect(await page.$eval(time, (t) => t.getAttribute('datetime'))).toBe(old.createdAt);
    expect(await page.textContent(time)).toBe('2 minutes ago');
    expect(await page.$eval(time, (t) => t.getAttribute('title'))).toContain(String(twoMinutesAgo.getFullYear()));
    const fresh = await post('times', 'just posted');
    await shows(page, fresh.id);
    expect(await page.textContent(`#m${fresh.id} time`)).toBe('just now');
    expect(await page.$eval(`#m${fresh.id} time`, (t) => t.getAttribute('datetime'))).toBe(fresh.createdAt);
    await page.clock.fastForward('02:00');
    await page.waitForFunction((selector) => document.querySelector(selector)?.textContent === '4 minutes ago', time, {
      timeout: 5000,
    });
    expect(await page.textContent(`#m${fresh.id} time`)).toBe('2 minutes ago');
    await page.close();
  });

  it('says when a wall has no messages yet, until one arrives', async () => {
    const { page } = await openTab(context, `${server.url}/w/empty-wall`);
    expect(await page.isVisible('.empty-state')).toBe(true);
    expect(await page.textContent('.empty-state')).toContain('No messages yet');
    const first = await post('empty-wall', 'the first');
    await shows(page, first.id);
    expect(await page.isVisible('.empty-state')).toBe(false);
    await page.close();
  });

  it('counts the length in code points as the server does: 1500 emoji go, 2001 characters are refused before sending', async () => {
    const { page } = await openTab(context, `${server.url}/w/lengths`);
    const posts: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST') posts.push(request.url());
    });
    const emoji = '😀'.repeat(1500);
    await postAndTime(page, emoji);
    const stored = (await getJson(server.url, '/api/walls/lengths/messages')).json.messages;
    expect(stored.map((m: { body: string }) => m.body)).toEqual([emoji]);
    expect(posts).toHaveLength(1);

    await page.fill('textarea[name="body"]', 'a'.repeat(2001));
    expect(await page.textContent('#counter')).toBe('2001 / 2000: 1 too many');
    await page.press('textarea[name="body"]', 'Enter');
    await page.waitForSelector('#compose-error:not([hidden])', { timeout: 2000 });
    expect(await page.textContent('#compose-error')).toBe(
      'The message is 2001 characters long; the limit is 2000. Shorten it by 1.',
    );
    expect(posts).toHaveLength(1);
    // The text is the reader's: kept, to shorten.
    expect(await page.inputValue('textarea[name="body"]')).toHaveLength(2001);
    await page.fill('textarea[name="body"]', '😀'.repeat(1850));
    expect(await page.textContent('#counter')).toBe('1850 / 2000');
    await page.close();
  });

  it('has a favicon and loads without a failed request', async () => {
    const { page, failures } = await openTab(context, `${server.url}/`);
    expect(await page.$eval('link[rel="icon"]', (l) => (l as HTMLLinkElement).href)).toBe(
      `${server.url}/static/favicon.svg`,
    );
    expect(
      await page.evaluate(() => fetch('/favicon.ico').then((r) => `${r.status} ${r.headers.get('content-type')}`)),
    ).toBe('200 image/x-icon');
    expect(failures).toEqual([]);
    await page.close();
  });

  it('without JavaScript, a post lands back on the wall at the new message, in view and marked', async () => {
    for (let i = 0; i < 40; i++) await post('nojs-land', `older ${i}`);
    const noJs = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 900, height: 600 } });
    const page = await noJs.newPage();
    await page.goto(`${server.url}/w/nojs-land`);
    await page.fill('textarea[name="body"]', 'posted without JavaScript');
    await Promise.all([
      page.waitForURL(/#m[A-Za-z0-9_-]{21}$/, { timeout: 5000 }),
      page.click('#compose button[type="submit"]'),
    ]);
    const target = new URL(page.url()).hash;
    expect(new URL(page.url()).pathname).toBe('/w/nojs-land');
    expect(await page.textContent(`${target} .body`)).toBe('posted without JavaScript');
    expect(await page.$eval(':target', (t) => t.id)).toBe(target.slice(1));
    expect((await scrollOf(page, target)).visible).toBe(true);
    await noJs.close();
  });

  it('without JavaScript, the error page links back to the wall the post came from', async () => {
    const noJs = await browser.newContext({ javaScriptEnabled: false });
    const page = await noJs.newPage();
    await page.goto(`${server.url}/w/nojs-error`);
    await page.fill('textarea[name="body"]', 'x'.repeat(2001));
    await Promise.all([
      page.waitForURL(/\/api\/walls\/nojs-error\/messages$/, { timeout: 5000 }),
      page.click('#compose button[type="submit"]'),
    ]);
    expect(await page.textContent('main.error p')).toContain('the limit is 2000');
    await Promise.all([page.waitForURL(`${server.url}/w/nojs-error`, { timeout: 5000 }), page.click('a#back')]);
    expect(await page.isVisible('form#compose')).toBe(true);
    await noJs.close();
  });
});

describe.skipIf(withoutChromium())('the page of a server that needs a publish token', () => {
  let server: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startTestServer({ WALLCAST_PUBLISH_TOKEN: 'publish-token-1' });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('says posting needs the token, offers no box that would fail, and still goes live', async () => {
    const context = await browser.newContext();
    const { page, failures } = await openTab(context, `${server.url}/w/closed`);
    expect(await page.textContent('#compose-closed')).toContain('needs a publish token');
    expect(await page.$('textarea')).toBeNull();
    const posted = await postJson(
      server.url,
      '/api/walls/closed/messages',
      { body: 'by the token holder' },
      { Authorization: 'Bearer publish-token-1' },
    );
    await shows(page, posted.json.id);
    expect(failures).toEqual([]);
    await context.close();
  });
});
