// @ts-check
// The README's pictures of the page (issue 18, point 8): a real server on
// port 0 with a temporary SQLite store, a conversation of several people
// over two days, a wall with news since this browser looked, and Chromium taking docs/screenshots/wall-light.png,
// wall-dark.png (1280×800) and wall-phone.png (390×844).
// `npm run screenshots` (it builds first: this runs dist/).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { chromium } from 'playwright-core';
import { loadConfig, unknownVariables } from '../dist/config.js';
import { createLogger } from '../dist/logger.js';
import { createMessage } from '../dist/posting.js';
import { startServer } from '../dist/server.js';

const OUT = new URL('../docs/screenshots/', import.meta.url);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'];
const WALL = 'team';
/** The signing secret of the verified author's token, when this server verifies tokens (issue 16). */
const JWT_SECRET = 'screenshots-only-secret-0123456789abcdef';

const MINUTE = 60_000;

/**
 * A time zone in which it is early afternoon now: the pictures then show
 * "Yesterday" and "Today" with a morning's talk, whenever the script runs.
 */
function afternoonZone() {
  const utcHour = new Date().getUTCHours();
  const offset = ((14 - utcHour + 36) % 24) - 12;
  // Etc/GMT zones have the sign the other way round: Etc/GMT-2 is UTC+2.
  return offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}

/** Minutes before now, and "yesterday at" a local hour and minute in that zone. */
function times(zone) {
  const now = Date.now();
  const hour = Number(new Intl.DateTimeFormat('en', { timeZone: zone, hour: 'numeric', hourCycle: 'h23' }).format(now));
  const minute = Number(new Intl.DateTimeFormat('en', { timeZone: zone, minute: 'numeric' }).format(now));
  const startOfToday = now - (hour * 60 + minute) * MINUTE;
  return {
    ago: (/** @type {number} */ minutes) => new Date(now - minutes * MINUTE),
    yesterday: (/** @type {number} */ h, /** @type {number} */ m) => new Date(startOfToday - 24 * 60 * MINUTE + (h * 60 + m) * MINUTE),
  };
}

/**
 * The talk of a team's wall over two days: [author, body, when]. No emoji:
 * a machine without an emoji font would draw them as boxes.
 */
function conversation(zone) {
  const { ago, yesterday } = times(zone);
  /** @type {[string, string, Date][]} */
  return [
    ['Maya Chen', 'Release 2.3 is on staging. Please try the new search before tomorrow.', yesterday(16, 2)],
    ['Maya Chen', 'Draft of the release notes: https://github.com/wallcast/wallcast/releases', yesterday(16, 3)],
    ['Jonas Weber', 'Search looks good. One thing: "café" does not find "cafe".', yesterday(16, 21)],
    ['Jonas Weber', 'Background on why: https://en.wikipedia.org/wiki/Diacritic_(disambiguation)', yesterday(16, 22)],
    ['', 'is the staging login down for anyone else?', yesterday(17, 45)],
    ['Priya Natarajan', 'Back now. The certificate rotated at 17:40 and the proxy kept the old one; reloaded it.', yesterday(17, 49)],
    ['Sam O’Neil', 'Morning! Stand-up in 15 minutes, usual room.', ago(150)],
    [
      'Maya Chen',
      'Notes from stand-up:\n• 2.3 goes out today at 15:00, Sam watches the dashboards\n• Jonas takes the accent folding (small, behind a flag)\n• Priya moves certificate renewal into the nightly job, so yesterday does not happen again\nAnything I missed, say so here.',
      ago(118),
    ],
    ['Jonas Weber', 'On it.', ago(116)],
    ['Jonas Weber', 'PR is up: https://github.com/wallcast/wallcast/pull/214', ago(113)],
    ['Sam O’Neil', 'Dashboards are at www.example.com/grafana/d/release if anyone wants to watch along.', ago(21)],
  ];
}

/**
 * Takes `page` off `wall`'s page and waits until the time the list of walls
 * keeps for that visit is written and stays (Chromium may run a left page's
 * pagehide after the next page loads): a message posted after it is news.
 * @param {import('playwright-core').Page} page
 * @param {string} base
 * @param {string} wall
 */
async function leftWall(page, base, wall) {
  const left = await page.evaluate(() => Date.now());
  await page.goto(`${base}/healthz`);
  let last = -1;
  for (let tries = 0; tries < 50; tries++) {
    const seen = await page.evaluate(
      (w) => Number(JSON.parse(localStorage.getItem('wallcast:seen-walls') ?? '{}')[w] ?? 0),
      wall,
    );
    if (seen >= left && seen === last) return;
    last = seen;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`#${wall}: the time it was left was never written`);
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'wallcast-screenshots-'));
  // Tokens once the server has them (issue 16): Priya posts verified.
  const withTokens = unknownVariables({ WALLCAST_JWT_SECRET: JWT_SECRET }).length === 0;
  const env = {
    PORT: '0',
    HOST: '127.0.0.1',
    WALLCAST_STORE: `sqlite:${join(dir, 'wall.db')}`,
    // A fresh server counts nobody for one grace period (issue 17: no flapping after a restart): keep it short here.
    WALLCAST_PRESENCE_GRACE_MS: '500',
    ...(withTokens ? { WALLCAST_JWT_SECRET: JWT_SECRET, WALLCAST_OPEN_WALLS: '*' } : {}),
  };
  const server = await startServer(loadConfig(env), { log: createLogger('silent') });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const zone = afternoonZone();
    for (const [author, body, at] of conversation(zone)) {
      await server.deps.store.append(createMessage(WALL, author, body, at));
    }
    for (const wall of ['releases', 'random', 'ops']) {
      await server.deps.store.append(createMessage(wall, 'Sam O’Neil', 'hello', new Date()));
    }
    await postVerified(server.url, withTokens);
    mkdirSync(OUT, { recursive: true });
    const shots = [
      { file: 'wall-light.png', colorScheme: 'light', viewport: { width: 1280, height: 800 }, scale: 1 },
      { file: 'wall-dark.png', colorScheme: 'dark', viewport: { width: 1280, height: 800 }, scale: 1 },
      { file: 'wall-phone.png', colorScheme: 'light', viewport: { width: 390, height: 844 }, scale: 2, touch: true },
    ];
    // Three more people with the wall open, each in a browser of their own: the bar says "4 here".
    const others = [];
    for (let n = 0; n < 3; n++) {
      const other = await browser.newContext();
      const tab = await other.newPage();
      await tab.goto(`${server.url}/w/${WALL}`);
      others.push(other);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    /** The first browser's storage (its name, its own post, its recent walls) for the others. @type {any} */
    let storageState;
    for (const [i, shot] of shots.entries()) {
      const context = await browser.newContext({
        storageState,
        viewport: shot.viewport,
        deviceScaleFactor: shot.scale,
        colorScheme: /** @type {'light' | 'dark'} */ (shot.colorScheme),
        timezoneId: zone,
        locale: 'en-US',
        isMobile: shot.touch ?? false,
        hasTouch: shot.touch ?? false,
      });
      const page = await context.newPage();
      // The walls this browser opened lately, for the list.
      for (const wall of ['ops', 'releases']) await page.goto(`${server.url}/w/${wall}`);
      await leftWall(page, server.url, 'releases');
      await page.goto(`${server.url}/w/${WALL}`);
      await page.waitForSelector('#status[data-state="live"]', { timeout: 10_000 });
      await page.fill('#compose-author', 'Alex Kim');
      if (i === 0) {
        // The reader's own post, sent from the page as a person would.
        await page.fill('#compose-body', 'Thanks all. I will be around for the release at 15:00.');
        await page.press('#compose-body', 'Enter');
        await page.waitForSelector('.message.own', { timeout: 10_000 });
      }
      // A message on a wall this browser looked at: the list marks it unread.
      await server.deps.store.append(createMessage('releases', 'Sam O’Neil', 'Release notes are up.', new Date()));
      // Rendered again, now in this browser's time zone, with its own post marked.
      await page.reload();
      await page.waitForSelector('#status[data-state="live"]', { timeout: 10_000 });
      await page.waitForSelector('.message.own', { timeout: 10_000 });
      await page.waitForSelector('a.wall-link.unread', { state: 'attached', timeout: 10_000 });
      await page.waitForSelector('#presence:not([hidden])', { timeout: 10_000 });
      await page.evaluate(() => document.fonts.ready);
      await page.screenshot({ path: new URL(shot.file, OUT).pathname });
      console.log(`docs/screenshots/${shot.file}`);
      storageState ??= await context.storageState();
      await context.close();
    }
    for (const other of others) await other.close();
  } finally {
    await browser.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Priya's latest word: signed by her token when the server verifies tokens,
 * so the picture shows a verified author; a plain named post otherwise.
 * @param {string} base
 * @param {boolean} withTokens
 */
async function postVerified(base, withTokens) {
  const body = 'Certificate renewal is in the nightly job now; the next one is automatic. Runbook updated.';
  /** @type {Record<string, string>} */
  const headers = { 'Content-Type': 'application/json' };
  if (withTokens) {
    const token = await new SignJWT({ name: 'Priya Natarajan', wallcast: { read: ['*'], post: ['*'] } })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('priya')
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(JWT_SECRET));
    headers.Authorization = `Bearer ${token}`;
  }
  const response = await fetch(`${base}/api/walls/${WALL}/messages`, {
    method: 'POST',
    headers,
    // The name too: a server that verifies the token ignores it (and takes the token's, the same).
    body: JSON.stringify({ body, author: 'Priya Natarajan' }),
  });
  if (response.status !== 201) throw new Error(`posting Priya's message: ${response.status} ${await response.text()}`);
  const { authorId } = await response.json();
  console.log(authorId ? `verified author: ${authorId}` : 'no verified author (this server does not verify tokens yet)');
}

await main();
