import { spawn } from 'node:child_process';
import net from 'node:net';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/message.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { until, within } from '../support/deadlines.js';
import { getJson, postJson, postMessage } from '../support/http.js';
import { startTestServer } from '../support/server.js';
import { type ServerUnderTest, startServerUnderTest, TEST_WORKERS } from '../support/server-under-test.js';
import { RawSse } from '../support/sse-reader.js';

describe('event streams', () => {
  let server: ServerUnderTest;
  let base: string;
  beforeAll(async () => {
    server = await startServerUnderTest({ WALLCAST_HISTORY: '200', WALLCAST_BACKLOG: '3' });
    base = server.url;
  });
  afterAll(() => server.close());

  const post = (wall: string, body: string) => postMessage(base, wall, body);

  it('flushes the headers and a jittered retry at once, then the head id on an empty wall', async () => {
    const sse = new RawSse(`${base}/api/walls/empty/events`);
    await within('headers before any message', 2000, sse.opened);
    expect(sse.status).toBe(200);
    expect(sse.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(sse.headers['cache-control']).toBe('no-cache, no-transform');
    expect(sse.headers['x-accel-buffering']).toBe('no');
    await sse.waitFor('retry and id-only head', (s) => s.frames.length >= 2);
    const [retry, head] = sse.frames;
    expect(retry?.retry).toBeGreaterThanOrEqual(1000);
    expect(retry?.retry).toBeLessThanOrEqual(5000);
    expect(head).toEqual({ id: (await getJson(base, '/api/walls/empty/messages')).json.cursor });
    sse.close();
  });

  it('delivers a post live with its cursor as id and the message JSON on one data line', async () => {
    const sse = new RawSse(`${base}/api/walls/live/events`);
    await sse.waitFor('head id', (s) => s.frames.some((f) => f.id !== undefined));
    const message = await post('live', 'line one\nline two');
    await sse.waitForMessages(1, 'live message');
    const frame = sse.frames.find((f) => f.data !== undefined);
    expect(frame).toEqual({ id: message.cursor, data: JSON.stringify(message) });
    sse.close();
  });

  it('starts with the newest backlog messages, or none with backlog=0', async () => {
    const posted = [];
    for (let i = 0; i < 5; i++) posted.push(await post('backlog', `b${i}`));
    const byDefault = new RawSse(`${base}/api/walls/backlog/events`);
    await byDefault.waitForMessages(3, 'default backlog of 3');
    expect(byDefault.messages().map((m) => m.body)).toEqual(['b2', 'b3', 'b4']);
    const two = new RawSse(`${base}/api/walls/backlog/events?backlog=1`);
    await two.waitForMessages(1, 'backlog=1');
    const none = new RawSse(`${base}/api/walls/backlog/events?backlog=0`);
    await none.waitFor('head id', (s) => s.frames.some((f) => f.id !== undefined));
    expect(none.frames.find((f) => f.id !== undefined)).toEqual({ id: posted[4]?.cursor });
    const next = await post('backlog', 'b5');
    await none.waitForMessages(1, 'live after backlog=0');
    expect(none.messages().map((m) => m.id)).toEqual([next.id]);
    await two.waitForMessages(2, 'live after backlog=1');
    expect(two.messages().map((m) => m.body)).toEqual(['b4', 'b5']);
    for (const s of [byDefault, two, none]) s.close();
  });

  it('resumes after Last-Event-ID, and after lastEventId when there is no header; the header wins', async () => {
    const posted = [];
    for (let i = 0; i < 4; i++) posted.push(await post('resume', `r${i}`));
    const byHeader = new RawSse(`${base}/api/walls/resume/events`, { 'Last-Event-ID': posted[1]?.cursor as string });
    await byHeader.waitForMessages(2, 'replay by header');
    expect(byHeader.messages().map((m) => m.body)).toEqual(['r2', 'r3']);
    const byQuery = new RawSse(`${base}/api/walls/resume/events?lastEventId=${posted[2]?.cursor}`);
    await byQuery.waitForMessages(1, 'replay by query');
    expect(byQuery.messages().map((m) => m.body)).toEqual(['r3']);
    const both = new RawSse(`${base}/api/walls/resume/events?lastEventId=${posted[0]?.cursor}`, {
      'Last-Event-ID': posted[2]?.cursor as string,
    });
    await both.waitForMessages(1, 'header over query');
    await post('resume', 'r4');
    await both.waitForMessages(2, 'live after replay');
    expect(both.messages().map((m) => m.body)).toEqual(['r3', 'r4']);
    for (const s of [byHeader, byQuery, both]) s.close();
  });

  it('answers an unknown cursor with a reset event whose id resumes the backlog that follows', async () => {
    for (let i = 0; i < 5; i++) await post('reset', `x${i}`);
    const sse = new RawSse(`${base}/api/walls/reset/events`, { 'Last-Event-ID': 'garbage' });
    await sse.waitForMessages(3, 'backlog after reset');
    const reset = sse.frames.find((f) => f.event === 'reset');
    expect(JSON.parse(reset?.data as string)).toEqual({ reason: 'malformed' });
    expect(sse.messages().map((m) => m.body)).toEqual(['x2', 'x3', 'x4']);
    const again = new RawSse(`${base}/api/walls/reset/events`, { 'Last-Event-ID': reset?.id as string });
    await again.waitForMessages(3, 'resume from the reset id');
    expect(again.messages().map((m) => m.body)).toEqual(['x2', 'x3', 'x4']);
    expect(again.frames.some((f) => f.event === 'reset')).toBe(false);
    sse.close();
    again.close();
  });

  // A store of the test's own goes into a server in this process only.
  it.skipIf(TEST_WORKERS > 1)('answers a cursor from before a memory-store restart with a reset', async () => {
    const old = await post('restart', 'before');
    const restarted = await startTestServer(
      {},
      new MemoryStore({ historySize: 100, historyBytes: 1 << 20, maxWalls: 10 }),
    );
    try {
      const sse = new RawSse(`${restarted.url}/api/walls/restart/events`, { 'Last-Event-ID': old.cursor });
      await sse.waitFor('reset', (s) => s.frames.some((f) => f.event === 'reset'));
      expect(JSON.parse(sse.frames.find((f) => f.event === 'reset')?.data as string)).toEqual({ reason: 'epoch' });
      sse.close();
    } finally {
      await restarted.close();
    }
  });

  it('keeps walls apart', async () => {
    const a = new RawSse(`${base}/api/walls/iso-a/events`);
    const b = new RawSse(`${base}/api/walls/iso-b/events`);
    await a.waitFor('a open', (s) => s.frames.length >= 2);
    await b.waitFor('b open', (s) => s.frames.length >= 2);
    await post('iso-a', 'for a');
    await post('iso-b', 'for b');
    await a.waitForMessages(1, 'a gets its message');
    await b.waitForMessages(1, 'b gets its message');
    expect(a.messages().map((m) => m.body)).toEqual(['for a']);
    expect(b.messages().map((m) => m.body)).toEqual(['for b']);
    a.close();
    b.close();
  });

  it('gives every subscriber every message exactly once, in one order, under concurrent posters', async () => {
    const subscribers = Array.from({ length: 25 }, () => new RawSse(`${base}/api/walls/busy/events?backlog=0`));
    for (const s of subscribers) await s.waitFor('open', (x) => x.frames.length >= 2);
    const posters = Array.from({ length: 10 }, async (_, p) => {
      for (let i = 0; i < 20; i++) await post('busy', `p${p}-${i}`);
    });
    await Promise.all(posters);
    for (const s of subscribers) await s.waitForMessages(200, 'all 200 messages');
    const order = subscribers[0]?.messages().map((m) => m.id);
    expect(new Set(order).size).toBe(200);
    for (const s of subscribers) expect(s.messages().map((m) => m.id)).toEqual(order);
    const stored = (await getJson(base, '/api/walls/busy/messages?limit=200')).json.messages.map((m: Message) => m.id);
    expect(order).toEqual(stored);
    for (const s of subscribers) s.close();
  });

  it('has no gap and no duplicate between replay and live while posts are in flight', async () => {
    const first = await post('flight', 'start');
    let posting = true;
    const poster = (async () => {
      // Fewer than the history (200): a trimmed history could not say what the clients should have.
      for (let i = 0; posting && i < 190; i++) await post('flight', `f${i}`);
    })();
    const clients: RawSse[] = [];
    for (let i = 0; i < 30; i++) {
      clients.push(new RawSse(`${base}/api/walls/flight/events`, { 'Last-Event-ID': first.cursor }));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    posting = false;
    await poster;
    // Everything after the first post, however many the poster got in, page by page.
    const expected: string[] = [];
    for (let cursor = first.cursor; ; ) {
      const page = (await getJson(base, `/api/walls/flight/messages?after=${encodeURIComponent(cursor)}&limit=200`))
        .json as { messages: Message[]; cursor: string };
      if (page.messages.length === 0) break;
      expected.push(...page.messages.map((m) => m.id));
      cursor = page.cursor;
    }
    expect(expected.length).toBeGreaterThan(0);
    for (const c of clients) {
      await c.waitForMessages(expected.length, 'caught up');
      expect(c.messages().map((m) => m.id)).toEqual(expected);
      c.close();
    }
  });

  it('sends a heartbeat comment only while the stream is idle', async () => {
    const fast = await startServerUnderTest({ WALLCAST_HEARTBEAT_MS: '400' });
    try {
      const idle = new RawSse(`${fast.url}/api/walls/hb/events`);
      await idle.waitFor('a ping while idle', (s) => s.frames.some((f) => f.comment === 'ping'), 3000);
      const busy = new RawSse(`${fast.url}/api/walls/hb-busy/events`);
      await busy.waitFor('open', (s) => s.frames.length >= 2);
      const pingsBefore = busy.frames.filter((f) => f.comment === 'ping').length;
      for (let i = 0; i < 25; i++) {
        await postJson(fast.url, '/api/walls/hb-busy/messages', { body: `tick ${i}` });
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
      await busy.waitForMessages(25, 'ticks');
      // A ping comes only after the stream was idle: on a machine so loaded that the
      // poster itself stalls past the interval, a ping there is right, so the gap is what counts.
      const gaps = busy.frames
        .map((f, i) => (i >= pingsBefore + 2 && f.comment === 'ping' ? busy.arrivals[i]! - busy.arrivals[i - 1]! : -1))
        .filter((gap) => gap >= 0);
      for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(400 / 2);
      expect(gaps.length).toBeLessThanOrEqual(2);
      idle.close();
      busy.close();
    } finally {
      await fast.close();
    }
  });

  it('disconnects a client that stopped reading while the others keep receiving', async () => {
    const small = await startServerUnderTest({ WALLCAST_SLOW_CLIENT_BYTES: '65536' });
    try {
      const url = new URL(`${small.url}/api/walls/slow/events?backlog=0`);
      const stalled = net.connect(Number(url.port), url.hostname);
      stalled.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`);
      let stalledClosed = false;
      stalled.on('close', () => {
        stalledClosed = true;
      });
      stalled.once('data', () => stalled.pause());
      const reader = new RawSse(`${small.url}/api/walls/slow/events?backlog=0`);
      await reader.waitFor('open', (s) => s.frames.length >= 2);
      await until('stalled client subscribed', 2000, async () => (await small.metric('wallcast_subscribers')) === 2);
      const body = 'y'.repeat(2000);
      let sent = 0;
      while (!stalledClosed && sent < 6000) {
        await Promise.all(Array.from({ length: 20 }, () => postJson(small.url, '/api/walls/slow/messages', { body })));
        sent += 20;
      }
      await until(
        'stalled client evicted',
        5000,
        async () => (await small.metric('wallcast_slow_client_disconnects_total')) === 1,
      );
      await reader.waitForMessages(sent, 'the reading client gets everything', 10000);
      expect(await small.metric('wallcast_subscribers')).toBe(1);
      reader.close();
      stalled.destroy();
    } finally {
      await small.close();
    }
  });

  it('replays a history larger than the slow-client bound to a client that keeps reading', async () => {
    const small = await startServerUnderTest({
      WALLCAST_SLOW_CLIENT_BYTES: '65536',
      WALLCAST_HISTORY: '2000',
      WALLCAST_HISTORY_BYTES: String(32 << 20),
    });
    try {
      const first = (await postJson(small.url, '/api/walls/big/messages', { body: 'first' })).json as Message;
      const body = 'z'.repeat(2000);
      for (let i = 0; i < 1500; i += 50) {
        await Promise.all(Array.from({ length: 50 }, () => postJson(small.url, '/api/walls/big/messages', { body })));
      }
      const sse = new RawSse(`${small.url}/api/walls/big/events`, { 'Last-Event-ID': first.cursor });
      await sse.waitForMessages(1500, 'the whole replay (about 6 MB)', 15_000);
      const live = await postJson(small.url, '/api/walls/big/messages', { body: 'live after replay' });
      await sse.waitForMessages(1501, 'live after the replay');
      expect(sse.messages().at(-1)?.id).toBe(live.json.id);
      expect(await small.metric('wallcast_slow_client_disconnects_total')).toBe(0);
      sse.close();
    } finally {
      await small.close();
    }
  });

  it('leaves no subscriber behind after thousands of connect/disconnect cycles', async () => {
    const churn = await startServerUnderTest();
    try {
      const rounds = 20;
      const perRound = 100;
      for (let r = 0; r < rounds; r++) {
        const batch = Array.from({ length: perRound }, () => new RawSse(`${churn.url}/api/walls/churn/events`));
        await Promise.all(batch.map((s) => s.waitFor('open', (x) => x.frames.length >= 2)));
        expect(await churn.metric('wallcast_subscribers')).toBeGreaterThanOrEqual(perRound);
        for (const s of batch) s.close();
      }
      await until('every subscriber removed', 5000, async () => (await churn.metric('wallcast_subscribers')) === 0);
      const metrics = await (await fetch(`${churn.url}/metrics`)).text();
      expect(metrics).toMatch(/^wallcast_subscribers 0$/m);
      expect(metrics).toMatch(/^wallcast_streams_opened_total 2000$/m);
    } finally {
      await churn.close();
    }
  });

  // Workers: test/e2e/workers.test.ts cuts streams by killing a worker instead.
  it.skipIf(TEST_WORKERS > 1)('lets the eventsource client reconnect and resume exactly what it missed', async () => {
    const seen: string[] = [];
    const source = new EventSource(`${base}/api/walls/es/events`);
    const opened = () =>
      new Promise<void>((resolve) => source.addEventListener('open', () => resolve(), { once: true }));
    source.addEventListener('message', (event) => seen.push(JSON.parse(event.data).body));
    await within('first open', 3000, opened());
    await post('es', 'before drop');
    await until('first message', 3000, () => seen.length === 1);
    const reopened = opened();
    server.inProcess?.deps.hub.disconnectAll();
    await post('es', 'while away 1');
    await post('es', 'while away 2');
    await within('reconnect', 8000, reopened);
    await post('es', 'after return');
    await until('all four', 5000, () => seen.length >= 4);
    expect(seen).toEqual(['before drop', 'while away 1', 'while away 2', 'after return']);
    source.close();
  });

  it('streams to curl -N, the real command-line client', async () => {
    const curl = spawn('curl', ['-sN', `${base}/api/walls/curl/events`]);
    let out = '';
    curl.stdout.on('data', (chunk) => {
      out += chunk;
    });
    try {
      await until('curl connected', 3000, () => out.includes('retry:'));
      const message = await post('curl', 'hello curl');
      await until('curl got the message', 3000, () => out.includes('hello curl'));
      expect(out).toContain(`id: ${message.cursor}\ndata: ${JSON.stringify(message)}\n\n`);
    } finally {
      curl.kill();
    }
  });

  it('moderates: DELETE needs the admin token, and streams live and replayed get event: delete', async () => {
    const admin = await startServerUnderTest({ WALLCAST_ADMIN_TOKEN: 'admin-token-1' });
    try {
      const url = admin.url;
      const first = (await postJson(url, '/api/walls/mod/messages', { body: 'fine' })).json as Message;
      const bad = (await postJson(url, '/api/walls/mod/messages', { body: 'spam' })).json as Message;
      const live = new RawSse(`${url}/api/walls/mod/events?backlog=0`);
      await live.waitFor('open', (s) => s.frames.length >= 2);
      const del = (auth?: string) =>
        fetch(`${url}/api/walls/mod/messages/${bad.id}`, {
          method: 'DELETE',
          headers: auth === undefined ? {} : { Authorization: `Bearer ${auth}` },
        });
      expect((await del()).status).toBe(401);
      expect((await del('wrong-token')).status).toBe(401);
      expect((await del('admin-token-1')).status).toBe(204);
      expect((await del('admin-token-1')).status).toBe(404);
      await live.waitFor('delete event', (s) => s.frames.some((f) => f.event === 'delete'));
      const frame = live.frames.find((f) => f.event === 'delete');
      expect(JSON.parse(frame?.data as string)).toEqual({ id: bad.id });
      expect((await getJson(url, `/api/walls/mod/messages/${bad.id}`)).status).toBe(404);
      expect((await getJson(url, '/api/walls/mod/messages')).json.messages.map((m: Message) => m.id)).toEqual([
        first.id,
      ]);
      const replayed = new RawSse(`${url}/api/walls/mod/events`, { 'Last-Event-ID': first.cursor });
      await replayed.waitFor('replayed delete', (s) => s.frames.some((f) => f.event === 'delete'));
      expect(replayed.messages()).toEqual([]);
      expect(replayed.frames.find((f) => f.event === 'delete')?.id).toBe(frame?.id);
      live.close();
      replayed.close();
    } finally {
      await admin.close();
    }
    const disabled = await fetch(`${base}/api/walls/mod/messages/x`, { method: 'DELETE' });
    expect(disabled.status).toBe(404);
  });

  it('answers HEAD with the stream headers and no body, and opens no stream', async () => {
    const res = await fetch(`${base}/api/walls/head/events`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(await res.text()).toBe('');
  });

  it('refuses streams past the subscriber cap with 503 and Retry-After', async () => {
    const capped = await startServerUnderTest({ WALLCAST_MAX_SUBSCRIBERS: '1' });
    try {
      const first = new RawSse(`${capped.url}/api/events`);
      await first.waitFor('open', (s) => s.frames.length >= 1);
      const res = await fetch(`${capped.url}/api/events`);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBeTruthy();
      expect((await res.json()).error.code).toBe('unavailable');
      first.close();
    } finally {
      await capped.close();
    }
  });
});
