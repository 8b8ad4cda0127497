/**
 * The page to WCAG 2.2 AA, in Chromium (issue 18, point 5): axe-core finds
 * no serious or critical violation in light, dark and on a phone, on a wall
 * full of messages and on an error page; every control is at least 44×44 px
 * on a phone; fields have visible labels and the form is a landmark; the
 * focus is visible; new messages are announced politely, once per burst.
 */
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessage } from '../../src/posting.js';
import type { RunningServer } from '../../src/server.js';
import {
  launchChromium,
  leaveWall,
  openTab,
  seriousViolations,
  smallTargets,
  typeAndSend,
  waitForBody,
} from '../support/browser.js';
import { until } from '../support/deadlines.js';
import { postJson } from '../support/http.js';
import { startTestServer } from '../support/server.js';
import { withoutChromium } from '../support/services.js';

const LOOKS: [string, BrowserContextOptions][] = [
  ['light', { colorScheme: 'light', viewport: { width: 1280, height: 800 } }],
  ['dark', { colorScheme: 'dark', viewport: { width: 1280, height: 800 } }],
  ['phone', { colorScheme: 'light', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }],
];

describe.skipIf(withoutChromium())('the page to WCAG 2.2 AA', () => {
  let server: RunningServer;
  let browser: Browser;
  const HOUR = 3600_000;

  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchChromium();
    const store = server.deps.store;
    const at = (msAgo: number) => new Date(Date.now() - msAgo);
    await store.append(createMessage('a11y', 'Maya Chen', 'Yesterday, before the day break.', at(26 * HOUR)));
    await store.append(createMessage('a11y', '', 'An anonymous question?', at(25 * HOUR)));
    await store.append(createMessage('a11y', 'Jonas', 'A link: https://en.wikipedia.org/wiki/Foo_(bar)', at(2 * HOUR)));
    await store.append(createMessage('a11y', 'Jonas', 'and a second one in his group', at(2 * HOUR - 60_000)));
    await store.append(createMessage('a11y', 'Priya', `A long one. ${'Words that go on. '.repeat(40)}`, at(HOUR)));
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** The wall with the reader's own post in it, and a refused post's error showing. */
  const wallWithEverything = async (page: Page) => {
    await page.goto(`${server.url}/w/a11y`);
    await page.waitForSelector('#status[data-state="live"]', { timeout: 5000 });
    await page.fill('#compose-author', 'Alex');
    await page.fill('textarea[name="body"]', `my own post ${Math.random()}`);
    await page.click('#compose button[type="submit"]');
    await page.waitForSelector('.message.own', { timeout: 5000 });
    await page.fill('textarea[name="body"]', 'x'.repeat(2001));
    await page.click('#compose button[type="submit"]');
    await page.waitForSelector('#compose-error:not([hidden])', { timeout: 5000 });
  };

  for (const [look, options] of LOOKS) {
    it(`has no serious or critical axe-core violation in ${look}: the wall, its list of walls, an error page`, async () => {
      const context = await browser.newContext(options);
      const page = await context.newPage();
      // A wall looked at that has had a message since: marked unread in the list of walls.
      await page.goto(`${server.url}/w/a11y-unread`);
      await leaveWall(page, server.url, 'a11y-unread');
      await postJson(server.url, '/api/walls/a11y-unread/messages', { body: 'since', author: 'Ann' });
      await wallWithEverything(page);
      // The list asked again, as a tab shown again asks it (the first answer may be slow on a loaded machine).
      await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
      await page.waitForSelector('#active-walls a.wall-link.unread', { state: 'attached', timeout: 10_000 });
      expect(await seriousViolations(page)).toEqual([]);
      // The list of walls, open (on a phone it is a panel over the page).
      if (look === 'phone') {
        await page.click('#walls-toggle');
        await page.waitForSelector('#walls.open', { timeout: 2000 });
      }
      await page.fill('#open-wall-name', 'Not a wall!');
      await page.press('#open-wall-name', 'Enter');
      await page.waitForSelector('#open-wall-error:not([hidden])', { timeout: 2000 });
      expect(await seriousViolations(page)).toEqual([]);
      for (const path of ['/w/team/extra', '/w/bad!name']) {
        await page.goto(`${server.url}${path}`);
        expect(await seriousViolations(page), path).toEqual([]);
      }
      await context.close();
    });
  }

  it('gives every control at least 44×44 px on a phone (390×844): the wall, its list of walls, an error page', async () => {
    const context = await browser.newContext(LOOKS[2]?.[1]);
    const page = await context.newPage();
    await wallWithEverything(page);
    expect(await smallTargets(page)).toEqual([]);
    await page.click('#walls-toggle');
    await page.waitForSelector('#walls.open', { timeout: 2000 });
    expect(await smallTargets(page)).toEqual([]);
    await page.goto(`${server.url}/w/team/extra`);
    expect(await smallTargets(page)).toEqual([]);
    await context.close();
  });

  it('labels every field visibly, keeps the form in a landmark, and shows where the focus is', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const { page } = await openTab(context, `${server.url}/w/a11y`);
    const unlabelled = await page.$$eval('input:not([type="hidden"]), textarea', (fields) =>
      fields.flatMap((field) => {
        const label = document.querySelector(`label[for="${field.id}"]`) ?? field.closest('label');
        const box = label?.getBoundingClientRect();
        const seen = box !== undefined && box.width > 4 && box.height > 4;
        return seen ? [] : [field.id || field.getAttribute('name') || '?'];
      }),
    );
    expect(unlabelled).toEqual([]);
    // A form with a name is a landmark; so are the bar, the list of walls and the messages.
    expect(await page.getByRole('form', { name: 'Message #a11y' }).count()).toBe(1);
    expect(await page.getByRole('navigation', { name: 'Walls' }).count()).toBe(1);
    expect(await page.getByRole('main').count()).toBe(1);
    expect(await page.getByRole('banner').count()).toBe(1);
    // Every stop of the keyboard shows a focus ring (the message box's is on the box around it).
    const unseen: string[] = [];
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      const focus = await page.evaluate(() => {
        const element = document.activeElement as HTMLElement;
        const ring = element.closest('.compose-box') ?? element;
        const style = getComputedStyle(ring);
        const shown = style.outlineStyle !== 'none' || style.boxShadow !== 'none';
        return { name: `${element.tagName.toLowerCase()}#${element.id}`, shown };
      });
      // Past the last stop the focus leaves the page for the browser's own controls.
      if (!focus.shown && focus.name !== 'body#') unseen.push(focus.name);
    }
    expect(unseen).toEqual([]);
    await context.close();
  });

  it('announces new messages politely: one alone with its author and text, a burst once, the reader’s own never', async () => {
    const context = await browser.newContext();
    const { page } = await openTab(context, `${server.url}/w/a11y-live`);
    expect(await page.$eval('#announcer', (a) => [a.getAttribute('aria-live'), a.getAttribute('aria-atomic')])).toEqual(
      ['polite', 'true'],
    );
    // Everything the live region ever says.
    await page.evaluate(() => {
      const w = window as unknown as { said: string[] };
      w.said = [];
      const region = document.getElementById('announcer') as HTMLElement;
      new MutationObserver(() => w.said.push(region.textContent ?? '')).observe(region, {
        childList: true,
        characterData: true,
        subtree: true,
      });
    });
    const said = () => page.evaluate(() => (window as unknown as { said: string[] }).said);
    await postJson(server.url, '/api/walls/a11y-live/messages', { body: 'one alone', author: 'Ann' });
    await until('the one message said', 5000, async () => (await said()).length >= 1);
    expect(await said()).toEqual(['Ann: one alone']);
    for (let i = 0; i < 5; i++) await postJson(server.url, '/api/walls/a11y-live/messages', { body: `burst ${i}` });
    await until('the burst said', 5000, async () => (await said()).length >= 2);
    await typeAndSend(page, 'my own, not said');
    await waitForBody(page, 'my own, not said');
    // Longer than the announcer gathers: anything it would say is said by now.
    await page.waitForTimeout(2000);
    expect(await said()).toEqual(['Ann: one alone', '5 new messages, the last from anonymous.']);
    await context.close();
  });
});
