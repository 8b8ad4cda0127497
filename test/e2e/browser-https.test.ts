/**
 * The page over HTTPS with HTTP/2 (WALLCAST_TLS_CERT, WALLCAST_TLS_KEY), in
 * Chromium with the run's self-signed certificate accepted: it loads, goes
 * live and posts, and every request, the stream included, is HTTP/2.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { launchChromium, openTab, postAndTime, waitForBody } from '../support/browser.js';
import { startTestServer } from '../support/server.js';
import { withoutChromium } from '../support/services.js';
import { selfSignedCertificate } from '../support/tls.js';

describe.skipIf(withoutChromium())('the page over HTTPS with HTTP/2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wallcast-page-tls-'));
  let server: RunningServer;
  let browser: Browser;
  beforeAll(async () => {
    const { cert, key } = selfSignedCertificate(dir);
    server = await startTestServer({ WALLCAST_TLS_CERT: cert, WALLCAST_TLS_KEY: key });
    browser = await launchChromium(['--ignore-certificate-errors']);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads, goes live, posts and receives over HTTP/2 in two tabs of two walls', async () => {
    const context = await browser.newContext();
    const one = await openTab(context, `${server.url}/w/secure-one`);
    const two = await openTab(context, `${server.url}/w/secure-two`);
    expect(await postAndTime(one.page, 'typed over h2')).toBeLessThan(1000);
    expect(await postAndTime(two.page, 'typed in the other tab')).toBeLessThan(1000);
    const protocols = await one.page.evaluate(() =>
      performance.getEntriesByType('resource').map((entry) => (entry as PerformanceResourceTiming).nextHopProtocol),
    );
    const navigation = await one.page.evaluate(
      () => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).nextHopProtocol,
    );
    expect(navigation).toBe('h2');
    expect(protocols.length).toBeGreaterThan(0);
    expect(new Set(protocols)).toEqual(new Set(['h2']));
    expect(one.failures).toEqual([]);
    expect(two.failures).toEqual([]);
    await context.close();
  });

  it('shows a post made elsewhere in the tab of its wall', async () => {
    const context = await browser.newContext();
    const tab = await openTab(context, `${server.url}/w/secure-three`);
    // From the page's origin, as another client would (Node's fetch refuses the test's certificate).
    await tab.page.evaluate(async (url) => {
      await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ body: 'posted by another client' }),
      });
    }, `${server.url}/api/walls/secure-three/messages`);
    await waitForBody(tab.page, 'posted by another client');
    await context.close();
  });
});
