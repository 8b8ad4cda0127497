/**
 * The page as people read a channel, in Chromium (issue 18, points 1, 4
 * and 7): one person's consecutive messages in one group under one avatar,
 * a heading per day, "anonymous" written, the reader's own posts marked,
 * the name remembered, Enter and Shift+Enter, a composer that grows and
 * whose errors never cover the newest message, links that leave the wall
 * live, and a background tab that counts what it missed.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessage } from '../../src/posting.js';
import type { RunningServer } from '../../src/server.js';
import { authorKey, hueOf } from '../../src/views/authors.js';
import { launchChromium, live, openTab, shows, typeAndSend, waitForBody } from '../support/browser.js';
import { until } from '../support/deadlines.js';
import { getJson, postJson } from '../support/http.js';
import { startTestServer } from '../support/server.js';
import { withoutChromium } from '../support/services.js';

const MINUTE = 60_000;

/** The timeline as a reader sees its structure: day headings, and each group's name, avatar and message count. */
function structure(page: Page) {
  return page.$$eval('#timeline > *', (children) =>
    children.map((child) => {
      if (child.matches('h2.day')) return `day ${child.querySelector('time')?.getAttribute('datetime')}`;
      const name = child.querySelector('.byline .name')?.textContent;
      const avatar = child.querySelector('.avatar') as HTMLElement;
      const hue = [...avatar.classList].find((c) => c.startsWith('hue-')) ?? 'anonymous';
      const count = child.querySelectorAll('.message').length;
      return `${name} [${avatar.textContent}|${hue}] ×${count}`;
    }),
  );
}

/** Whether the element is on screen in the inbox and not under anything (the compose box, an error). */
function inView(page: Page, selector: string) {
  return page.evaluate((selector) => {
    const element = document.querySelector(selector) as HTMLElement;
    const box = element.getBoundingClientRect();
    const view = (document.getElementById('inbox') as HTMLElement).getBoundingClientRect();
    const hit = document.elementFromPoint(box.left + 40, box.top + box.height / 2);
    return box.top >= view.top - 1 && box.bottom <= view.bottom + 1 && hit !== null && element.contains(hit);
  }, selector);
}

describe.skipIf(withoutChromium())('the page as people read a channel', () => {
  let server: RunningServer;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const post = async (wall: string, body: string, author?: string) =>
    (await postJson(server.url, `/api/walls/${wall}/messages`, author === undefined ? { body } : { body, author }))
      .json;
  const append = (wall: string, author: string, body: string, minutesAgo: number) =>
    server.deps.store.append(createMessage(wall, author, body, new Date(Date.now() - minutesAgo * MINUTE)));

  it('groups one author’s consecutive messages under one avatar, writes "anonymous", heads each day, and groups live messages as the server does', async () => {
    // Yesterday in UTC, and in the browser's zone (UTC here).
    await append('groups', 'Carl Berg', 'from yesterday', 26 * 60);
    await append('groups', 'Ann', 'first', 30);
    await append('groups', 'Ann', 'second, a minute later', 29);
    await append('groups', 'Bob', 'in between', 28);
    await append('groups', '', 'anonymous once', 27);
    await append('groups', '', 'anonymous twice: maybe someone else', 26);
    await append('groups', 'Ann', 'later: a group of her own again', 20);
    await append('groups', 'Ann', 'three minutes on: the same group', 17);
    context = await browser.newContext({ timezoneId: 'UTC' });
    const { page, failures } = await openTab(context, `${server.url}/w/groups`);
    const hue = (name: string) => `hue-${hueOf(authorKey(name, null))}`;
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - 24 * 3600_000).toISOString().slice(0, 10);
    const rendered = [
      `day ${yesterday}`,
      `Carl Berg [CB|${hue('Carl Berg')}] ×1`,
      `day ${today}`,
      `Ann [A|${hue('Ann')}] ×2`,
      `Bob [B|${hue('Bob')}] ×1`,
      'anonymous [|anonymous] ×1',
      'anonymous [|anonymous] ×1',
      `Ann [A|${hue('Ann')}] ×2`,
    ];
    expect(await structure(page)).toEqual(rendered);
    expect(await page.textContent('#timeline h2.day:first-of-type')).toBe('Yesterday');
    expect(await page.$$eval('#timeline h2.day', (days) => days.map((d) => d.textContent))).toEqual([
      'Yesterday',
      'Today',
    ]);
    // The fragment's own author is hidden inside a group: the byline says it once.
    expect(await page.isVisible('#timeline .message .author')).toBe(false);

    // Live: Ann again 10 minutes on is a new group; her next message and Dee's are grouped as the server would.
    const live1 = await post('groups', 'ten minutes on', 'Ann');
    const live2 = await post('groups', 'right after', 'Ann');
    const live3 = await post('groups', 'hello', 'Dee Dee');
    await shows(page, live3.id);
    const withLive = [...rendered, `Ann [A|${hue('Ann')}] ×2`, `Dee Dee [DD|${hue('Dee Dee')}] ×1`];
    expect(await structure(page)).toEqual(withLive);
    const groupOf = (id: string) =>
      page.$eval(`#m${id}`, (m) => [...document.querySelectorAll('.group')].indexOf(m.closest('.group') as Element));
    expect(await groupOf(live2.id)).toBe(await groupOf(live1.id));
    // Rendered by the server now: the same structure as the page made live.
    await page.reload();
    await live(page);
    expect(await structure(page)).toEqual(withLive);
    expect(failures).toEqual([]);
    await context.close();
  });

  it('makes the days again in the reader’s time zone, and the server renders the next page in it', async () => {
    // 23:30 UTC yesterday is already today in Auckland (UTC+12 or +13).
    const now = new Date();
    const lateYesterday = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 1, 23, 30);
    await server.deps.store.append(
      createMessage('zones', 'Ann', 'late at night, UTC', new Date(lateYesterday - 2 * 3600_000)),
    );
    await server.deps.store.append(
      createMessage('zones', 'Ann', 'after midnight in Auckland', new Date(lateYesterday)),
    );
    context = await browser.newContext({ timezoneId: 'Pacific/Auckland' });
    const page = await context.newPage();
    const served: string[] = [];
    page.on('response', async (response) => {
      if (response.url().endsWith('/w/zones')) served.push(await response.text());
    });
    await page.goto(`${server.url}/w/zones`);
    await live(page);
    const days = () => page.$$eval('#timeline h2.day time', (t) => t.map((time) => time.getAttribute('datetime')));
    const local = (ms: number) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Pacific/Auckland' }).format(ms);
    const expected = [...new Set([local(lateYesterday - 2 * 3600_000), local(lateYesterday)])];
    expect(await days()).toEqual(expected);
    await page.reload();
    await live(page);
    expect(await days()).toEqual(expected);
    // The first page was rendered in UTC, the second (with the page's cookie) in Auckland's zone.
    expect(served[0]).toContain('data-time-zone="UTC"');
    expect(served[1]).toContain('data-time-zone="Pacific/Auckland"');
    await context.close();
  });

  it('marks the reader’s own posts, after a reload too, and nobody else’s; remembers their name on every wall', async () => {
    context = await browser.newContext();
    const { page } = await openTab(context, `${server.url}/w/mine`);
    await post('mine', 'someone else, same name', 'Alex');
    await page.fill('#compose-author', 'Alex');
    await typeAndSend(page, 'my own words');
    const own = await waitForBody(page, 'my own words');
    expect(await page.$eval(`#${own}`, (m) => m.classList.contains('own'))).toBe(true);
    expect(await page.textContent(`#${own} >> xpath=ancestor::article[1]//span[@class="you"]`)).toBe('you');
    const other = await page.$$eval('#inbox .message', (all) => all.filter((m) => !m.classList.contains('own')).length);
    expect(other).toBe(1);
    await page.reload();
    await live(page);
    expect(await page.$$eval('#inbox .message.own', (all) => all.map((m) => m.id))).toEqual([own]);
    // The name is kept for the next page, of any wall.
    expect(await page.inputValue('#compose-author')).toBe('Alex');
    const elsewhere = await openTab(context, `${server.url}/w/other-wall`);
    expect(await elsewhere.page.inputValue('#compose-author')).toBe('Alex');
    // Another browser: the post is not its reader's.
    const stranger = await browser.newContext();
    const theirs = await openTab(stranger, `${server.url}/w/mine`);
    expect(await theirs.page.$$eval('#inbox .message.own', (all) => all.length)).toBe(0);
    expect(await theirs.page.inputValue('#compose-author')).toBe('');
    await stranger.close();
    await context.close();
  });

  it('sends with Enter, starts a new line with Shift+Enter, and grows the box with its text', async () => {
    context = await browser.newContext();
    const { page } = await openTab(context, `${server.url}/w/keys`);
    const box = 'textarea[name="body"]';
    const height = () => page.$eval(box, (t) => t.getBoundingClientRect().height);
    const oneLine = await height();
    await page.click(box);
    await page.keyboard.type('line one');
    await page.keyboard.press('Shift+Enter');
    await page.keyboard.type('line two');
    await page.keyboard.press('Shift+Enter');
    await page.keyboard.type('line three');
    expect(await page.inputValue(box)).toBe('line one\nline two\nline three');
    expect(await height()).toBeGreaterThan(oneLine * 1.8);
    await page.keyboard.press('Enter');
    await waitForBody(page, 'line one\nline two\nline three');
    const stored = (await getJson(server.url, '/api/walls/keys/messages')).json.messages;
    expect(stored.map((m: { body: string }) => m.body)).toEqual(['line one\nline two\nline three']);
    expect(await page.inputValue(box)).toBe('');
    expect(await height()).toBeLessThan(oneLine + 2);
    await context.close();
  });

  it('keeps the newest message in view when the box grows or an error shows above it', async () => {
    for (let i = 0; i < 30; i++) await post('covered', `message ${i}`, 'Ann');
    context = await browser.newContext({ viewport: { width: 900, height: 600 } });
    const { page } = await openTab(context, `${server.url}/w/covered`);
    const newest = await page.$$eval('#inbox .message', (all) => all.at(-1)?.id as string);
    expect(await inView(page, `#${newest}`)).toBe(true);
    await page.fill('textarea[name="body"]', 'x'.repeat(2001));
    await page.press('textarea[name="body"]', 'Enter');
    await page.waitForSelector('#compose-error:not([hidden])', { timeout: 2000 });
    await until('the newest still in view under the error', 2000, () => inView(page, `#${newest}`));
    await page.fill('textarea[name="body"]', Array.from({ length: 8 }, (_, i) => `line ${i}`).join('\n'));
    await page.dispatchEvent('textarea[name="body"]', 'input');
    await until('the newest still in view over a taller box', 2000, () => inView(page, `#${newest}`));
    await context.close();
  });

  it('opens links in a new tab that learns nothing of the wall, and the wall stays live', async () => {
    context = await browser.newContext();
    const { page } = await openTab(context, `${server.url}/w/links`);
    const target = `${server.url}/healthz`;
    const posted = await post('links', `look: ${target} and www.example.com/x_(y)`, 'Ann');
    await shows(page, posted.id);
    const links = await page.$$eval(`#m${posted.id} a`, (all) =>
      all.map((a) => [a.getAttribute('href'), a.getAttribute('target'), a.getAttribute('rel')]),
    );
    expect(links).toEqual([
      [target, '_blank', 'noopener noreferrer nofollow'],
      ['http://www.example.com/x_(y)', '_blank', 'noopener noreferrer nofollow'],
    ]);
    const [opened] = await Promise.all([context.waitForEvent('page'), page.click(`#m${posted.id} a >> nth=0`)]);
    await opened.waitForLoadState();
    expect(opened.url()).toBe(target);
    expect(await opened.evaluate(() => [window.opener === null, document.referrer])).toEqual([true, '']);
    expect(page.url()).toBe(`${server.url}/w/links`);
    const after = await post('links', 'still live', 'Bob');
    await shows(page, after.id);
    await context.close();
  });

  describe('a tab the reader is not looking at', () => {
    /** The tab's title and favicon. */
    const badge = (page: Page) =>
      page.evaluate(() => [document.title, document.querySelector('link[rel="icon"]')?.getAttribute('href')]);

    it('counts new messages in its title and shows a dot on its favicon while another page is in front, and clears when brought back', async () => {
      context = await browser.newContext();
      const { page } = await openTab(context, `${server.url}/w/unread`);
      // Real focus: playwright emulates focus for every page unless told not to.
      const session = await context.newCDPSession(page);
      await session.send('Emulation.setFocusEmulationEnabled', { enabled: false });
      await page.bringToFront();
      await until('the wall has focus', 2000, () => page.evaluate(() => document.hasFocus()));
      await post('unread', 'seen as it came', 'Ann');
      await page.waitForTimeout(200);
      expect(await badge(page)).toEqual(['#unread · wallcast', '/static/favicon.svg']);

      const front = await context.newPage();
      await (await context.newCDPSession(front)).send('Emulation.setFocusEmulationEnabled', { enabled: false });
      await front.goto(`${server.url}/healthz`);
      await front.bringToFront();
      await until('the wall lost focus', 2000, async () => !(await page.evaluate(() => document.hasFocus())));
      for (const body of ['one', 'two', 'three']) await shows(page, (await post('unread', body, 'Bob')).id);
      expect(await badge(page)).toEqual(['(3) #unread · wallcast', '/static/favicon-unread.svg']);

      await page.bringToFront();
      await until('the count cleared', 2000, async () => (await badge(page))[0] === '#unread · wallcast');
      expect(await badge(page)).toEqual(['#unread · wallcast', '/static/favicon.svg']);
      await context.close();
    });

    it('counts while the tab is hidden, and clears when it is shown (visibility simulated: headless Chromium never hides a tab)', async () => {
      context = await browser.newContext();
      const { page } = await openTab(context, `${server.url}/w/hidden`);
      // The last resort the brief allows: headless Chromium reports every page "visible" whatever is
      // in front (bringToFront, background targets, a minimised window, a frozen page: all tried),
      // so the page's own visibility is overridden and its event sent, as the browser would.
      const setHidden = (hidden: boolean) =>
        page.evaluate((hidden) => {
          Object.defineProperty(document, 'visibilityState', {
            configurable: true,
            get: () => (hidden ? 'hidden' : 'visible'),
          });
          Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
          document.dispatchEvent(new Event('visibilitychange'));
        }, hidden);
      await setHidden(true);
      for (const body of ['a', 'b']) await shows(page, (await post('hidden', body, 'Bob')).id);
      expect(await badge(page)).toEqual(['(2) #hidden · wallcast', '/static/favicon-unread.svg']);
      await setHidden(false);
      expect(await badge(page)).toEqual(['#hidden · wallcast', '/static/favicon.svg']);
      await context.close();
    });
  });
});
