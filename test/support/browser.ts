/**
 * Chromium for the page's tests: Debian's binary driven by playwright-core,
 * and the few questions every browser test asks of a tab (is it live, which
 * messages does it show, did any request fail, what would axe-core and a
 * thumb say of it).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { until } from './deadlines.js';
import { CHROMIUM } from './services.js';

/** Headless, no sandbox (containers), nothing the browser would fetch for itself. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
];

/** How long a tab may take to load and go live on a loaded 2-core machine. */
export const LIVE_MS = 5000;

/** `extraArgs`: e.g. `--ignore-certificate-errors` for a test's self-signed certificate. */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/** A tab and what went wrong in it: failed requests, HTTP errors, script errors and dialogs. */
export interface Tab {
  page: Page;
  failures: string[];
  dialogs: string[];
}

/** Opens `url` in a new tab of `context`, recording every failure from the first request on. */
export async function openTab(context: BrowserContext, url: string, waitLive = true): Promise<Tab> {
  const page = await context.newPage();
  const tab: Tab = { page, failures: [], dialogs: [] };
  page.on('requestfailed', (request) => {
    // A stream the page closes on purpose (a reopen, the tab closing) is not a failure.
    if (request.resourceType() === 'eventsource') return;
    tab.failures.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) tab.failures.push(`${response.status()} ${response.url()}`);
  });
  page.on('pageerror', (error) => tab.failures.push(`script error: ${error.message}`));
  page.on('dialog', (dialog) => {
    tab.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(url, { timeout: LIVE_MS });
  if (waitLive) await live(page);
  return tab;
}

export async function live(page: Page, ms = LIVE_MS): Promise<void> {
  await page.waitForSelector('[role="status"][data-state="live"]', { timeout: ms });
}

/** The element ids of the messages a tab shows, in order. */
export function shownIds(page: Page): Promise<string[]> {
  return page.$$eval('#inbox .message', (elements) => elements.map((element) => element.id));
}

/** Waits until the tab shows message `id`. */
export async function shows(page: Page, id: string, ms = LIVE_MS): Promise<void> {
  await page.waitForSelector(`#m${id}`, { timeout: ms, state: 'attached' });
}

/** Types `text` into the compose box and sends it with Enter, as a person would. */
export async function typeAndSend(page: Page, text: string): Promise<void> {
  await page.fill('textarea[name="body"]', text);
  await page.press('textarea[name="body"]', 'Enter');
}

/**
 * Sends `text` as a person would (typed, then Enter) and measures, in the
 * page, the time from the key press to the message on screen: the test
 * driver's own round trips are not the page's latency.
 */
export async function postAndTime(page: Page, text: string, ms = LIVE_MS): Promise<number> {
  await page.fill('textarea[name="body"]', text);
  await page.evaluate((wanted) => {
    const w = window as unknown as { postTiming?: Promise<number> };
    w.postTiming = new Promise((resolve) => {
      const textarea = document.querySelector('textarea[name="body"]') as HTMLTextAreaElement;
      textarea.addEventListener(
        'keydown',
        () => {
          const pressed = performance.now();
          const shown = () =>
            [...document.querySelectorAll('#inbox .message .body')].some((b) => b.textContent === wanted);
          const observer = new MutationObserver(() => {
            if (!shown()) return;
            observer.disconnect();
            resolve(performance.now() - pressed);
          });
          observer.observe(document.getElementById('inbox') as HTMLElement, { childList: true, subtree: true });
        },
        { capture: true, once: true },
      );
    });
  }, text);
  await page.press('textarea[name="body"]', 'Enter');
  const handle = await page.waitForFunction(
    () => (window as unknown as { postTiming: Promise<number> }).postTiming,
    null,
    {
      timeout: ms,
    },
  );
  return Math.round((await handle.jsonValue()) as number);
}

/** Waits until a message whose body is exactly `text` is in the tab; its element id. */
export async function waitForBody(page: Page, text: string, ms = LIVE_MS): Promise<string> {
  const handle = await page.waitForFunction(
    (wanted) =>
      [...document.querySelectorAll('#inbox .message')].find((m) => m.querySelector('.body')?.textContent === wanted)
        ?.id,
    text,
    { timeout: ms },
  );
  return (await handle.jsonValue()) as string;
}

/** The bodies a tab shows, in order. */
export function shownBodies(page: Page): Promise<string[]> {
  return page.$$eval('#inbox .message .body', (elements) => elements.map((element) => element.textContent ?? ''));
}

/** axe-core's own build, injected into a page by `evaluate` (which the page's CSP does not govern). */
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * The page's serious and critical accessibility violations by axe-core
 * (WCAG 2.0–2.2 A and AA rules, and its best practices), each as
 * "rule: target, target…" so that a failure says what to fix.
 */
export async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (context: Document, options: object) => Promise<AxeResults> } })
      .axe;
    const results = await axe.run(document, { resultTypes: ['violations'] });
    return results.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      targets: violation.nodes.map((node) => node.target.join(' ')),
    }));
  });
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id}: ${violation.targets.join(', ')}`);
}

interface AxeResults {
  violations: { id: string; impact: string | null; nodes: { target: string[] }[] }[];
}

/**
 * Every control a person can tap that is smaller than `minPx` on a side,
 * as "selector WxH". Links inside a message's text are exempt, as WCAG
 * 2.5.5 exempts a link in a sentence; so are controls not on screen.
 */
export function smallTargets(page: Page, minPx = 44): Promise<string[]> {
  return page.evaluate((minPx) => {
    const controls = document.querySelectorAll<HTMLElement>(
      'a[href], button, input:not([type="hidden"]), textarea, select, summary, [role="button"], [tabindex="0"]',
    );
    const small: string[] = [];
    for (const control of controls) {
      if (control.closest('.message .body')) continue;
      const box = control.getBoundingClientRect();
      const style = getComputedStyle(control);
      const shown =
        box.width > 1 &&
        box.height > 1 &&
        style.visibility !== 'hidden' &&
        box.right > 0 &&
        box.bottom > 0 &&
        box.left < innerWidth &&
        box.top < innerHeight;
      if (!shown || control.closest('[hidden]')) continue;
      if (box.width < minPx - 0.5 || box.height < minPx - 0.5) {
        const name = `${control.tagName.toLowerCase()}${control.id ? `#${control.id}` : ''}${control.className && typeof control.className === 'string' ? `.${control.className.split(' ').join('.')}` : ''}`;
        small.push(`${name} ${Math.round(box.width)}x${Math.round(box.height)}`);
      }
    }
    return small;
  }, minPx);
}

/**
 * Takes `page` off `wall`'s page (to the same origin's /healthz) and waits
 * until the time the list of walls keeps for that visit is written and
 * stays: a page that is left writes when it was last seen (pagehide), and
 * Chromium may run that after the next page has loaded. A test that posts
 * "since the reader looked" posts after this.
 */
export async function leaveWall(page: Page, base: string, wall: string): Promise<void> {
  const left = await page.evaluate(() => Date.now());
  await page.goto(`${base}/healthz`);
  const seen = () =>
    page.evaluate((w) => Number(JSON.parse(localStorage.getItem('wallcast:seen-walls') ?? '{}')[w] ?? 0), wall);
  let last = -1;
  await until(`#${wall} seen when it was left`, 5000, async () => {
    const now = await seen();
    const settled = now >= left && now === last;
    last = now;
    if (!settled) await new Promise((resolve) => setTimeout(resolve, 100));
    return settled;
  });
}
