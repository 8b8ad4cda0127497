/**
 * What an operator reads: /metrics (checked by Debian's promtool, the
 * Prometheus project's own linter), on the public port or one of its own,
 * and the log of a real process through posts, streams, a Redis cut and a
 * SIGTERM: JSON lines, no secret in any of them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { until, within } from '../support/deadlines.js';
import { postJson } from '../support/http.js';
import { OwnRedis } from '../support/own-redis.js';
import { freePort } from '../support/ports.js';
import { spawnWallcast } from '../support/process.js';
import { startTestServer } from '../support/server.js';
import { RawSse } from '../support/sse-reader.js';

const PROMTOOL = process.env.PROMTOOL_PATH ?? '/usr/bin/promtool';
const hasPromtool = existsSync(PROMTOOL) || Boolean(process.env.CI);
if (!hasPromtool) console.warn(`skipping the promtool check: no promtool at ${PROMTOOL} (apt-get install prometheus)`);

function promtoolCheck(text: string): { status: number | null; output: string } {
  const run = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

const sample = (text: string, name: string, labels = ''): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || l.startsWith(`${name}${labels}{`));
  return Number(line?.split(' ').at(-1));
};

describe('/metrics', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({
      WALLCAST_RATE_LIMIT: '3/min',
      WALLCAST_MAX_WALLS: '2',
      WALLCAST_MAX_SUBSCRIBERS: '2',
    });
  });
  afterAll(() => server.close());

  it('counts posts, refusals by reason, streams and deliveries, with histograms and process metrics', async () => {
    const sse = new RawSse(`${server.url}/api/walls/m1/events?backlog=0`);
    await sse.waitFor('open', (s) => s.frames.length >= 2);
    expect((await postJson(server.url, '/api/walls/m1/messages', { body: 'one' })).status).toBe(201);
    expect((await postJson(server.url, '/api/walls/m2/messages', { body: 'two' })).status).toBe(201);
    expect((await postJson(server.url, '/api/walls/m3/messages', { body: 'no room' })).status).toBe(507);
    expect((await postJson(server.url, '/api/walls/m1/messages', { body: '' })).status).toBe(400);
    expect((await postJson(server.url, '/api/walls/m1/messages', { body: 'three' })).status).toBe(201);
    expect((await postJson(server.url, '/api/walls/m1/messages', { body: 'four' })).status).toBe(429);
    const second = new RawSse(`${server.url}/api/walls/m2/events`);
    await second.opened;
    expect((await fetch(`${server.url}/api/walls/m2/events`)).status).toBe(503);
    await sse.waitForMessages(2, 'the live posts');
    const res = await fetch(`${server.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(sample(text, 'wallcast_posts_total')).toBe(3);
    expect(sample(text, 'wallcast_refusals_total', '{reason="too_many_walls"}')).toBe(1);
    expect(sample(text, 'wallcast_refusals_total', '{reason="invalid_body"}')).toBe(1);
    expect(sample(text, 'wallcast_refusals_total', '{reason="rate_limited"}')).toBe(1);
    expect(sample(text, 'wallcast_refusals_total', '{reason="subscriber_cap"}')).toBe(1);
    expect(sample(text, 'wallcast_subscribers')).toBe(2);
    expect(sample(text, 'wallcast_wall_subscribers', '{wall="m1"}')).toBe(1);
    expect(sample(text, 'wallcast_deliveries_total')).toBe(2);
    expect(sample(text, 'wallcast_stream_writes_total')).toBe(2);
    expect(sample(text, 'wallcast_post_duration_seconds_count')).toBe(3);
    expect(sample(text, 'wallcast_delivery_lag_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'wallcast_store_ready')).toBe(1);
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    sse.close();
    second.close();
  });

  it.skipIf(!hasPromtool)('passes promtool check metrics', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const check = promtoolCheck(text);
    expect(check.output).toBe('');
    expect(check.status).toBe(0);
  });

  it.skipIf(!hasPromtool)('is checked for real: promtool refuses broken metrics', () => {
    expect(promtoolCheck('# TYPE wallcast_x counter\nwallcast_x{a="1" 2\n').status).not.toBe(0);
  });

  it('moves to a port of its own with WALLCAST_METRICS_PORT, off the public one', async () => {
    const apart = await startTestServer({ WALLCAST_METRICS_PORT: '0' });
    try {
      expect(apart.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      expect((await fetch(`${apart.url}/metrics`)).status).toBe(404);
      const res = await fetch(apart.metricsUrl as string);
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/^wallcast_subscribers 0$/m);
    } finally {
      await apart.close();
    }
  });
});

describe('the log of a real process', () => {
  const PASSWORD = 'redis-secret-pw-7f3a';
  const TOKEN = 'publish-token-9c2e';
  let redis: OwnRedis;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    redis = new OwnRedis(port, ['--requirepass', PASSWORD]);
    await redis.start();
  });
  afterAll(async () => {
    if (redis?.running) await redis.kill();
  });

  it('is JSON lines with no secret, through posts, streams, a Redis cut and a SIGTERM', async () => {
    const proc = await spawnWallcast({
      WALLCAST_STORE: `redis://:${PASSWORD}@127.0.0.1:${port}/0`,
      WALLCAST_PUBLISH_TOKEN: TOKEN,
      WALLCAST_ACCESS_LOG: 'on',
    });
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const sse = new RawSse(`${proc.url}/api/walls/log/events?backlog=0`);
    await sse.waitFor('open', (s) => s.frames.length >= 2);
    for (let i = 0; i < 5; i++)
      expect((await postJson(proc.url, '/api/walls/log/messages', { body: `p${i}` }, auth)).status).toBe(201);
    await sse.waitForMessages(5, 'live');
    await redis.kill();
    await until('the cut is logged', 10_000, () => proc.output().includes('redis: not answering'));
    expect((await postJson(proc.url, '/api/walls/log/messages', { body: 'during the cut' }, auth)).status).toBe(503);
    await redis.start();
    await until('recovery is logged', 15_000, () => proc.output().includes('redis: connection is back'));
    proc.child.kill('SIGTERM');
    expect(await within('exit', 10_000, proc.exited)).toBe(0);
    sse.close();

    const lines = proc.output().trim().split('\n');
    const entries = lines.map(
      (line) => JSON.parse(line) as { level: string; time: string; msg: string; [k: string]: unknown },
    );
    for (const entry of entries) {
      expect(typeof entry.level).toBe('string');
      expect(entry.time).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(typeof entry.msg).toBe('string');
    }
    expect(proc.output()).not.toContain(PASSWORD);
    expect(proc.output()).not.toContain(TOKEN);
    const messages = entries.map((e) => e.msg);
    // The URL first, then the settings on a line of their own.
    const start = entries.findIndex((e) => e.msg.startsWith('listening on http://'));
    expect(entries[start + 1]?.msg).toBe('settings');
    const settings = entries[start + 1]?.settings as Record<string, unknown>;
    expect(settings.publishToken).toBe('***');
    expect(settings.store).toBe(`redis://:***@127.0.0.1:${port}/0`);
    expect(messages.filter((m) => m === 'request').length).toBeGreaterThanOrEqual(6);
    expect(messages.some((m) => m.startsWith('shutdown: new work refused'))).toBe(true);
    expect(messages.at(-1)).toBe('shutdown: connections closed, store flushed and closed');
    // No line per delivery: 5 posts to a stream are a handful of lines, not one per event.
    expect(lines.length).toBeLessThan(40);
  });

  it('is for people with WALLCAST_LOG_FORMAT=pretty', async () => {
    const proc = await spawnWallcast({ WALLCAST_STORE: 'memory', WALLCAST_LOG_FORMAT: 'pretty' });
    proc.child.kill('SIGTERM');
    await proc.exited;
    const first = proc.output().split('\n')[0] as string;
    expect(() => JSON.parse(first)).toThrow();
    expect(proc.output()).toMatch(/INFO.*listening on http:\/\//);
  });
});
