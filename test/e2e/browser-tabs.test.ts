/**
 * Many tabs of one browser, one connection: the tabs of an origin share one
 * stream (a leader tab holds it, the others get its events over a
 * BroadcastChannel), on plain HTTP/1.1 where a browser opens at most six
 * connections per origin.
 */
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import {
  launchChromium,
  live,
  openTab,
  postAndTime,
  shownBodies,
  shownIds,
  type Tab,
  waitForBody,
} from '../support/browser.js';
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
  afterEach(async () => {
    await context?.close();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const states = (tabs: { tab: Tab }[]) =>
    Promise.all(tabs.map(({ tab }) => tab.page.$eval('[role="status"]', (s) => s.dataset.state)));

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
    expect(await states(tabs)).toEqual(tabs.map(() => 'live'));
  });

  it('a tab whose page was rendered before the newest posts catches up: from the leader, or from the history when the leader lacks them', async () => {
    context = await browser.newContext();
    const wall = 'late';
    const body = (i: number) => `late ${i}`;
    const first = await openTab(context, `${server.url}/w/${wall}`);
    await postJson(server.url, `/api/walls/${wall}/messages`, { body: body(0) });
    await waitForBody(first.page, body(0));

    /** A tab rendered now, whose script runs only after `posts` more posts: they come after its page's cursor. */
    const lateTab = async (from: number, posts: number) => {
      const page = await context.newPage();
      const reads: string[] = [];
      page.on('request', (request) => {
        if (request.url().includes(`/api/walls/${wall}/messages?`)) reads.push(request.url());
      });
      let release = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      await page.route('**/static/wall.js', async (route) => {
        await gate;
        await route.continue();
      });
      await page.goto(`${server.url}/w/${wall}`, { waitUntil: 'commit' });
      await page.waitForSelector('#inbox', { state: 'attached' });
      for (let i = from; i < from + posts; i++)
        await postJson(server.url, `/api/walls/${wall}/messages`, { body: body(i) });
      release();
      await live(page);
      return { page, reads };
    };

    const second = await lateTab(1, 2);
    const expected = [0, 1, 2].map(body);
    await until('the second tab caught up', 3000, async () => (await shownBodies(second.page)).length >= 3);
    expect(await shownBodies(second.page)).toEqual(expected);
    // The leader had them: no history read.
    expect(second.reads).toEqual([]);

    // A new leader has none of the events before it: a late tab then reads them.
    await first.page.close();
    await until(
      'the second tab leads',
      3000,
      async () => (await second.page.$eval('#status', (s) => s.dataset.role)) === 'leader',
    );
    const third = await lateTab(3, 2);
    await until('the third tab caught up', 3000, async () => (await shownBodies(third.page)).length >= 5);
    expect(await shownBodies(third.page)).toEqual([0, 1, 2, 3, 4].map(body));
    expect(third.reads).toHaveLength(1);
    await until('the second tab has them all', 3000, async () => (await shownBodies(second.page)).length >= 5);
    expect(await shownBodies(second.page)).toEqual([0, 1, 2, 3, 4].map(body));
  });

  it('the leader tab closes with posts in flight: another tab takes the stream over, no post missed or shown twice', async () => {
    context = await browser.newContext();
    const walls = ['hand-a', 'hand-b'];
    const tabs: { tab: Tab; wall: string }[] = [];
    for (let i = 0; i < 4; i++) {
      const wall = walls[i % walls.length] as string;
      tabs.push({ tab: await openTab(context, `${server.url}/w/${wall}`), wall });
    }
    const roles = await Promise.all(tabs.map(({ tab }) => tab.page.$eval('#status', (s) => s.dataset.role)));
    expect(roles.filter((role) => role === 'leader')).toHaveLength(1);
    const leader = tabs[roles.indexOf('leader')] as { tab: Tab; wall: string };

    const posted: { wall: string; body: string }[] = [];
    const posting = (async () => {
      for (let i = 0; i < 40; i++) {
        const wall = walls[i % walls.length] as string;
        const { status } = await postJson(server.url, `/api/walls/${wall}/messages`, { body: `in flight ${i}` });
        expect(status).toBe(201);
        posted.push({ wall, body: `in flight ${i}` });
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
    })();
    await until('posts under way', 3000, () => posted.length >= 10);
    await leader.tab.page.close();
    await posting;

    const remaining = tabs.filter((t) => t !== leader);
    for (const { tab, wall } of remaining) {
      const expected = posted.filter((p) => p.wall === wall).map((p) => p.body);
      await until(
        `${wall}: every post after the hand-over`,
        5000,
        async () => (await shownBodies(tab.page)).length >= expected.length,
      );
      // In post order, each once: nothing lost with the leader, nothing replayed twice by the next one.
      expect(await shownBodies(tab.page)).toEqual(expected);
      expect(tab.failures).toEqual([]);
      await live(tab.page);
    }
    const after = await Promise.all(remaining.map(({ tab }) => tab.page.$eval('#status', (s) => s.dataset.role)));
    expect(after.filter((role) => role === 'leader')).toHaveLength(1);
    await until('one stream on the server again', 3000, () => server.deps.hub.size === 1);
  });
});
