/**
 * Many tabs of one browser, one connection: the tabs of an origin share one
 * stream (a leader tab holds it, the others get its events over a
 * BroadcastChannel), on plain HTTP/1.1 where a browser opens at most six
 * connections per origin.
 */
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { launchChromium, live, openTab, postAndTime, shownBodies, shownIds, type Tab } from '../support/browser.js';
import { until } from '../support/deadlines.js';
import { postJson } from '../support/http.js';
import { startTestServer } from '../support/server.js';
import { withoutChromium } from '../support/services.js';

/** The bound: a post shows in its own tab within a second. */
const POST_SHOWN_MS = 1000;

describe.skipIf(withoutChromium())('tabs of one browser share one stream', () => {
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

  it('8 tabs over 4 walls: each goes live and posts in under a second, each message once in every tab of its wall, one stream', async () => {
    context = await browser.newContext();
    const walls = ['tab-a', 'tab-b', 'tab-c', 'tab-d'];
    await postJson(server.url, '/api/walls/tab-a/messages', { body: 'before the tabs' });
    const tabs: { tab: Tab; wall: string }[] = [];
    for (let i = 0; i < 8; i++) {
      const wall = walls[i % walls.length] as string;
      tabs.push({ tab: await openTab(context, `${server.url}/w/${wall}`), wall });
    }
    const timings: number[] = [];
    for (const [i, { tab }] of tabs.entries()) timings.push(await postAndTime(tab.page, `post ${i}`));
    for (const { tab, wall } of tabs) {
      const expected = tabs.flatMap((t, i) => (t.wall === wall ? [`post ${i}`] : []));
      if (wall === 'tab-a') expected.unshift('before the tabs');
      await until(
        `${wall}: every post of its wall`,
        3000,
        async () => (await shownBodies(tab.page)).length >= expected.length,
      );
      expect((await shownBodies(tab.page)).sort()).toEqual(expected.sort());
      const ids = await shownIds(tab.page);
      expect(new Set(ids).size).toBe(ids.length);
      expect(tab.failures).toEqual([]);
    }
    console.info(`8 tabs: each post on screen in its tab after ${timings.join(', ')} ms`);
    expect(Math.max(...timings)).toBeLessThan(POST_SHOWN_MS);
    await until('one stream on the server', 3000, () => server.deps.hub.size === 1);
    for (const { tab } of tabs) await live(tab.page, 100);
  });
});
