/**
 * Older messages and other walls, in Chromium (issue 18, points 2 and 3):
 * older messages when the reader scrolls to the top, the reader kept where
 * they were, none shown twice or skipped; the same without JavaScript by
 * the "Older messages" link; a page that keeps working on a server that
 * does not page backwards; and the list of walls: this browser's recent
 * ones, the server's, the box that opens any wall by name, and the walls
 * with messages since this browser last showed them.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/message.js';
import { createMessage } from '../../src/posting.js';
import type { RunningServer } from '../../src/server.js';
import { launchChromium, leaveWall, openTab, shownBodies, shownIds, shows } from '../support/browser.js';
import { until } from '../support/deadlines.js';
import { getJson, postJson } from '../support/http.js';
import { startTestServer } from '../support/server.js';
import { withoutChromium } from '../support/services.js';

describe.skipIf(withoutChromium())('older messages and other walls', () => {
  let server: RunningServer;
  let browser: Browser;
  let context: BrowserContext;
  /** The 130 messages of wall `scrollback`, oldest first. */
  let history: Message[];

  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchChromium();
    history = [];
    for (let i = 0; i < 130; i++) {
      history.push(
        (await postJson(server.url, '/api/walls/scrollback/messages', { body: `old ${i}`, author: 'Ann' })).json,
      );
    }
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** Where a message is on screen, relative to the top of the inbox. */
  const offsetOf = (page: Page, id: string) =>
    page.evaluate((id) => {
      const inbox = (document.getElementById('inbox') as HTMLElement).getBoundingClientRect();
      return (document.getElementById(id) as HTMLElement).getBoundingClientRect().top - inbox.top;
    }, id);

  it('loads older messages when the reader scrolls to the top, keeps their place, and shows each message once', async () => {
    context = await browser.newContext({ viewport: { width: 900, height: 600 } });
    const page = await context.newPage();
    const asked: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('before=')) asked.push(new URL(request.url()).searchParams.get('before') ?? '');
    });
    await page.goto(`${server.url}/w/scrollback`);
    await page.waitForSelector('#status[data-state="live"]', { timeout: 5000 });
    expect(await shownBodies(page)).toEqual(history.slice(80).map((m) => m.body));

    // To the top: the reader was reading "old 80"; it stays where it was on screen.
    await page.$eval('#inbox', (inbox) => {
      inbox.scrollTop = 0;
    });
    const reading = `m${history[80]?.id}`;
    const before = await offsetOf(page, reading);
    await until('a page of older messages', 5000, async () => (await shownIds(page)).length >= 130 - 30);
    expect(Math.abs((await offsetOf(page, reading)) - before)).toBeLessThan(2);
    expect(await shownBodies(page)).toEqual(history.slice(30).map((m) => m.body));

    // And on to the beginning.
    await page.$eval('#inbox', (inbox) => {
      inbox.scrollTop = 0;
    });
    await page.waitForSelector('.history-edge.start', { timeout: 5000 });
    expect(await page.textContent('.history-edge.start')).toBe('This is the beginning of #scrollback.');
    const ids = await shownIds(page);
    expect(ids).toEqual(history.map((m) => `m${m.id}`));
    // Each page asked once, before the oldest message shown.
    expect(asked).toEqual([history[80]?.cursor, history[30]?.cursor]);

    // Still live, at the end.
    const live = (await postJson(server.url, '/api/walls/scrollback/messages', { body: 'after the history' })).json;
    await shows(page, live.id);
    expect((await shownIds(page)).at(-1)).toBe(`m${live.id}`);
    history.push(live);
    await context.close();
  });

  it('without JavaScript, pages back by the "Older messages" link through every message once', async () => {
    context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${server.url}/w/scrollback`);
    const pages: string[][] = [];
    for (;;) {
      pages.unshift(await shownBodies(page));
      const older = await page.$('a.older');
      if (older === null) break;
      await Promise.all([page.waitForURL(/\?before=/, { timeout: 5000 }), older.click()]);
    }
    expect(pages.flat()).toEqual(history.map((m) => m.body));
    expect(await page.textContent('.history-edge.start')).toBe('This is the beginning of #scrollback.');
    // The way back to the newest.
    await Promise.all([
      page.waitForURL(`${server.url}/w/scrollback`, { timeout: 5000 }),
      page.click('text=Jump to the newest'),
    ]);
    await context.close();
  });

  it('on a server that does not page backwards, keeps the link a plain link to the server’s older page, and shows nothing twice', async () => {
    context = await browser.newContext({ viewport: { width: 900, height: 600 } });
    const page = await context.newPage();
    // The answer of a server without `before`: it reads the newest, and says nothing of `more`.
    await page.route(/\/api\/walls\/[^/]+\/messages\?(.*&)?before=/, async (route) => {
      const newest = (await getJson(server.url, '/api/walls/scrollback/messages?limit=50')).json;
      await route.fulfill({ json: newest });
    });
    await page.goto(`${server.url}/w/scrollback`);
    await page.waitForSelector('#status[data-state="live"]', { timeout: 5000 });
    const shown = await shownIds(page);
    await page.$eval('#inbox', (inbox) => {
      inbox.scrollTop = 0;
    });
    await page.waitForFunction(() => document.querySelector('a.older')?.textContent === 'Older messages', null, {
      timeout: 5000,
    });
    expect(await shownIds(page)).toEqual(shown);
    await Promise.all([page.waitForURL(/\?before=/, { timeout: 5000 }), page.click('a.older')]);
    // The server's page of the 50 before the oldest that was shown; live, it brings everything after them too.
    const oldest = history.findIndex((m) => `m${m.id}` === shown[0]);
    const expected = history.slice(oldest - 50).map((m) => m.body);
    await until('the history page caught up', 5000, async () => (await shownBodies(page)).length >= expected.length);
    expect(await shownBodies(page)).toEqual(expected);
    await context.close();
  });

  it('lists this browser’s recent walls, the server’s walls by activity, and opens any wall typed in the box', async () => {
    const walls = Array.from({ length: 55 }, (_, i) => `list-${String(i).padStart(2, '0')}`);
    // A second apart: the list's order (newest activity first) is then one order.
    const start = Date.now() - walls.length * 1000;
    for (const [i, wall] of walls.entries()) {
      await server.deps.store.append(createMessage(wall, '', 'hi', new Date(start + i * 1000)));
    }
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const visit = async (wall: string) => {
      const tab = await openTab(context, `${server.url}/w/${wall}`, false);
      return tab.page;
    };
    for (const wall of ['list-01', 'list-02']) await (await visit(wall)).close();
    const page = await context.newPage();
    await page.goto(`${server.url}/w/list-03`);
    const recent = () =>
      page.$$eval('#recent-walls a', (links) => links.map((a) => [a.textContent, a.getAttribute('aria-current')]));
    expect(await recent()).toEqual([
      ['#list-03', 'page'],
      ['#list-02', null],
      ['#list-01', null],
    ]);
    // The server's list: newest activity first, a page at a time.
    await page.waitForSelector('#active-walls:not([hidden]) li', { timeout: 5000 });
    const active = () => page.$$eval('#active-walls a .wall-link-name', (names) => names.map((n) => n.textContent));
    expect(await active()).toEqual([...walls].reverse().slice(0, 50));
    await page.click('#active-walls .more-walls');
    // Walls of this file's other tests are older than these, so they come after them.
    await until('the second page of walls', 5000, async () => (await active()).length >= 55);
    expect((await active()).slice(0, 55)).toEqual([...walls].reverse());
    expect(await page.isHidden('#active-walls .more-walls')).toBe(true);

    // The box: a name as people type it; one that is no wall's is said beside it.
    await page.fill('#open-wall-name', 'bad name!');
    await page.press('#open-wall-name', 'Enter');
    await page.waitForSelector('#open-wall-error:not([hidden])', { timeout: 2000 });
    expect(await page.textContent('#open-wall-error')).toContain('A wall name is 1–64 characters');
    expect(new URL(page.url()).pathname).toBe('/w/list-03');
    await page.fill('#open-wall-name', ' #Team Chat ');
    await Promise.all([
      page.waitForURL(`${server.url}/w/team-chat`, { timeout: 5000 }),
      page.press('#open-wall-name', 'Enter'),
    ]);
    await context.close();
  });

  it('marks a wall this browser looked at that has had messages since, in both lists, until it is looked at again', async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    // Looked at: unread-a and unread-b; never: unread-c. All three are newer than every other wall here.
    for (const wall of ['unread-a', 'unread-b', 'unread-c']) {
      await postJson(server.url, `/api/walls/${wall}/messages`, { body: 'before', author: 'Ann' });
    }
    const looker = await context.newPage();
    for (const wall of ['unread-a', 'unread-b']) {
      await looker.goto(`${server.url}/w/${wall}`);
      await leaveWall(looker, server.url, wall);
    }
    for (const wall of ['unread-a', 'unread-c']) {
      await postJson(server.url, `/api/walls/${wall}/messages`, { body: 'after', author: 'Bob' });
    }
    const page = await context.newPage();
    await page.goto(`${server.url}/w/unread-b`);
    await page.waitForSelector('#active-walls:not([hidden]) li', { timeout: 5000 });
    const marked = (list: string) =>
      page.$$eval(`#${list} a.wall-link`, (links) =>
        links
          .filter((a) => a.classList.contains('unread'))
          .map((a) => [
            a.querySelector('.wall-link-name')?.textContent,
            a.querySelector('.visually-hidden')?.textContent,
          ]),
      );
    await until('unread-a marked', 5000, async () => (await marked('active-walls')).length > 0);
    expect(await marked('active-walls')).toEqual([['unread-a', ', new messages']]);
    expect(await marked('recent-walls')).toEqual([['unread-a', ', new messages']]);
    expect(
      await page.$eval(
        'a.wall-link.unread',
        (a) => getComputedStyle(a.querySelector('.wall-link-name') as Element).fontWeight,
      ),
    ).toBe('700');

    // Looked at again: no longer marked. A message meanwhile shows when the tab is shown again.
    await looker.goto(`${server.url}/w/unread-a`);
    await leaveWall(looker, server.url, 'unread-a');
    await looker.close();
    await postJson(server.url, '/api/walls/unread-b/messages', { body: 'on the wall shown', author: 'Bob' });
    await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
    await until('unread-a no longer marked', 5000, async () => (await marked('active-walls')).length === 0);
    expect(await marked('recent-walls')).toEqual([]);
    // Another browser's message on the wall looked at, while this tab is shown: marked at the next refresh.
    await postJson(server.url, '/api/walls/unread-a/messages', { body: 'later', author: 'Bob' });
    await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
    await until('unread-a marked again', 5000, async () => (await marked('active-walls')).length === 1);
    await context.close();
  });

  it('opens the list from the bar on a phone, and closes it with Escape, the focus back on the button', async () => {
    context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const { page } = await openTab(context, `${server.url}/w/phone-list`);
    expect(await page.isVisible('#open-wall-name')).toBe(false);
    await page.click('#walls-toggle');
    await page.waitForSelector('#walls.open', { timeout: 2000 });
    expect(await page.getAttribute('#walls-toggle', 'aria-expanded')).toBe('true');
    await until('the list shown', 2000, () => page.isVisible('#open-wall-name'));
    await page.keyboard.press('Escape');
    await until('the list hidden', 2000, async () => !(await page.isVisible('#open-wall-name')));
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('walls-toggle');
    await context.close();
  });

  it('without JavaScript, the box opens the wall meant, and on a phone the list opens from the bar', async () => {
    context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto(`${server.url}/w/nojs-list`);
    expect(await page.isVisible('#open-wall-name')).toBe(false);
    await page.click('#walls-toggle');
    await until('the list shown', 2000, () => page.isVisible('#open-wall-name'));
    await page.fill('#open-wall-name', '#Somewhere');
    await Promise.all([
      page.waitForURL(`${server.url}/w/somewhere`, { timeout: 5000 }),
      page.press('#open-wall-name', 'Enter'),
    ]);
    await context.close();
  });
});
