/**
 * Who is here, end to end (issue 17): people counted over real streams of a
 * real server (memory store), tokens signed by jose. People, not
 * connections; one event per change; the grace; the one-event-a-second
 * bound under churn; events without ids; several walls; what the route
 * refuses; the settling after a restart (SQLite); and a count that the
 * stream cap bounds. The servers' grace is short so that tests can wait it
 * out; the emission window is the contract's second.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventSource } from 'eventsource';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { until } from '../support/deadlines.js';
import { postMessage } from '../support/http.js';
import { newWall, untilPast } from '../support/presence.js';
import {
  bearer,
  closeAll,
  counts,
  heard,
  onlineNow,
  openStream,
  refusedStream,
  SECRET,
  untilHeard,
  untilSettled,
} from '../support/presence-streams.js';
import { startTestServer } from '../support/server.js';
import type { RawSse } from '../support/sse-reader.js';

/** Short, to be waited out; long enough that a reconnect on a busy machine is back within it. */
const GRACE_MS = 1000;
/** The contract's window: at most one presence event a second per wall. */
const WINDOW_MS = 1000;

describe('presence over HTTP', () => {
  let server: RunningServer;
  let base: string;
  const opened: RawSse[] = [];

  /** A stream of `wall` (no backlog), with `query` added, kept to be closed after the test. */
  async function stream(wall: string, query = '', headers: Record<string, string> = {}): Promise<RawSse> {
    const sse = await openStream(base, `/api/walls/${wall}/events?backlog=0${query}`, headers);
    opened.push(sse);
    return sse;
  }

  /** Waits until the server has seen exactly `size` streams open (the others' closes taken in). */
  const untilStreams = (label: string, size: number) =>
    until(label, 3000, () => server.deps.hub.size === size).catch((error: Error) => {
      throw new Error(`${error.message} (streams open: ${server.deps.hub.size})`);
    });

  beforeAll(async () => {
    server = await startTestServer({
      WALLCAST_JWT_SECRET: SECRET,
      WALLCAST_OPEN_WALLS: '*',
      WALLCAST_PRESENCE_GRACE_MS: String(GRACE_MS),
    });
    base = server.url;
    await untilSettled(server);
  });
  beforeEach(() => untilStreams("the test before's streams are gone", 0));
  afterEach(() => closeAll(opened.splice(0)));
  afterAll(() => server.close());

  it('counts the streams of one client id once, of one token sub once, each stream with neither once; GET agrees', async () => {
    const wall = newWall();
    const watcher = await stream(wall, '&presence=count&client=watcher-1');
    await untilHeard(watcher, 'the watcher counts itself', 1);
    // Three tabs of one browser.
    for (let i = 0; i < 3; i++) await stream(wall, '&client=browser-A');
    expect(await onlineNow(base, wall)).toBe(2);
    // Ann on three devices: her sub counts once, whatever client id a stream names.
    const ann = await bearer('ann');
    await stream(wall, '', ann);
    await stream(wall, '&client=browser-B', ann);
    const annWatching = await stream(wall, '&presence=count', ann);
    expect(await onlineNow(base, wall)).toBe(3);
    // Two streams that say nothing of who they are: one person each.
    await stream(wall);
    await stream(wall);
    expect(await onlineNow(base, wall)).toBe(5);
    await untilHeard(watcher, 'the watcher hears 5 people on 9 streams', 5);
    await untilHeard(annWatching, 'so does Ann', 5);
    expect(server.deps.hub.size).toBe(9);
    expect(await onlineNow(base, wall)).toBe(5);
  });

  it('tells a stream that arrives the count once, not again when the window its arrival opened closes', async () => {
    const wall = newWall();
    const first = await stream(wall, '&presence=count&client=watcher-8');
    await untilHeard(first, 'the first watcher counts itself', 1);
    const arrivedMs = performance.now();
    const second = await stream(wall, '&presence=count&client=watcher-9');
    await untilHeard(second, 'the second hears 2 as it goes live', 2, 1000);
    await untilHeard(first, 'the first hears 2 when the window closes', 2);
    await untilPast('the window its arrival opened is over', arrivedMs, WINDOW_MS + 300);
    expect([counts(first), counts(second)]).toEqual([[1, 2], [2]]);
  });

  it('never counts out a person who reconnects within the grace: the count stays and nobody hears a thing', async () => {
    const wall = newWall();
    const watcher = await stream(wall, '&presence=count&client=watcher-2');
    const ann = await bearer('ann');
    const leaving = [await stream(wall, '&client=browser-C'), await stream(wall, '', ann)];
    await untilHeard(watcher, 'the watcher, browser C and Ann', 3);
    const heardBefore = heard(watcher).length;
    closeAll(leaving);
    const closedMs = performance.now();
    await untilStreams('the server saw browser C and Ann go', 1);
    expect(await onlineNow(base, wall)).toBe(3);
    // A network blip: both back well within the grace.
    await stream(wall, '&client=browser-C');
    await stream(wall, '', ann);
    expect(performance.now() - closedMs).toBeLessThan(GRACE_MS);
    // Past the grace, a window and some: had anyone been counted out, the watcher would have heard it by now.
    const lowest = { online: 3 };
    await until('past the grace and a window', GRACE_MS + WINDOW_MS + 2000, async () => {
      lowest.online = Math.min(lowest.online, await onlineNow(base, wall));
      return performance.now() >= closedMs + GRACE_MS + WINDOW_MS + 300;
    });
    expect(lowest.online).toBe(3);
    expect(counts(watcher).slice(heardBefore)).toEqual([]);
  });

  it('counts a person out once the grace has passed without them, not before; a stream without id at once', async () => {
    const wall = newWall();
    const watcher = await stream(wall, '&presence=count&client=watcher-3');
    const leaving = [await stream(wall, '&client=browser-D'), await stream(wall)];
    await untilHeard(watcher, 'the watcher, browser D and a stream', 3);
    closeAll(leaving);
    const closedAt = Date.now();
    await untilStreams('the server saw both go', 1);
    // The anonymous stream cannot come back as itself: it is gone at once; browser D is in its grace.
    expect(await onlineNow(base, wall)).toBe(2);
    await until('GET shows browser D gone', GRACE_MS + 2000, async () => (await onlineNow(base, wall)) === 1);
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(GRACE_MS);
    await untilHeard(watcher, 'the watcher hears browser D gone', 1, WINDOW_MS + 2000);
    const arrivals = watcher.arrivals.filter((_, i) => watcher.frames[i]?.event === 'presence');
    expect((arrivals.at(-1) as number) - closedAt).toBeGreaterThanOrEqual(GRACE_MS);
  });

  it('gives a watching stream at most one presence event a second while a client connects and disconnects in a loop', async () => {
    const wall = newWall();
    const watcher = await stream(wall, '&presence=count&client=watcher-4');
    await untilHeard(watcher, 'the watcher counts itself', 1);
    const firstEvent = heard(watcher).length;
    const startMs = performance.now();
    let cycles = 0;
    // Streams that come and go, as a page in a reload loop without a client id would: each a person for a moment.
    while (performance.now() - startMs < 3000) {
      const churn = await openStream(base, `/api/walls/${wall}/events?backlog=0`);
      await untilPast('a moment open', performance.now(), 30 * (cycles % 4));
      churn.close();
      cycles++;
    }
    await untilStreams('the churn is over', 1);
    await untilPast('a window after the last change', performance.now(), WINDOW_MS + 200);
    expect(cycles).toBeGreaterThan(20);
    const events = watcher.frames.flatMap((frame, i) =>
      frame.event === 'presence' ? [watcher.arrivals[i] as number] : [],
    );
    const during = events.slice(firstEvent);
    const gaps = during.slice(1).map((at, i) => at - (during[i] as number));
    // A timer fires no sooner than its delay; the reader's clock adds a few ms either way.
    expect(
      gaps.every((gapMs) => gapMs >= WINDOW_MS - 20),
      `gaps ${gaps.join(', ')} ms`,
    ).toBe(true);
    expect(during.length).toBeLessThanOrEqual(5);
    expect(heard(watcher).at(-1)?.online).toBe(1);
  });

  it('sends presence events without an id: Last-Event-ID stays the last message, and no replay holds one', async () => {
    const wall = newWall();
    const first = await postMessage(base, wall, 'one');
    const lastEventIds: (string | null)[] = [];
    const messages: string[] = [];
    const presence: number[] = [];
    const source = new EventSource(`${base}/api/walls/${wall}/events?presence=count&client=reader-05`, {
      fetch: (url, init) => {
        lastEventIds.push(new Headers(init.headers).get('last-event-id'));
        return fetch(url, init);
      },
    });
    try {
      source.addEventListener('message', (event) => messages.push(event.lastEventId));
      source.addEventListener('presence', (event) => presence.push(JSON.parse(event.data).online));
      await until('the message and the count', 3000, () => messages.length === 1 && presence.length === 1);
      // A second person: a presence event, which must not move the id the client resumes from.
      const raw = await stream(wall, '&presence=count&client=browser-E');
      await until('the reader hears 2', 3000, () => presence.at(-1) === 2);
      await untilHeard(raw, 'so does the raw reader', 2);
      expect(raw.frames.filter((frame) => frame.event === 'presence' && frame.id !== undefined)).toEqual([]);
      // The connection drops; a message is posted meanwhile; the client resumes.
      server.deps.hub.disconnectAll();
      const second = await postMessage(base, wall, 'two');
      await until('the reader resumes and gets "two"', 5000, () => messages.length === 2);
      expect(lastEventIds).toEqual([null, first.cursor]);
      expect(messages).toEqual([first.cursor, second.cursor]);

      // A reader resuming from "one": the replay has "two" and no presence event heard before; then the count, live.
      const resumed = await stream(wall, '&presence=count&client=browser-F', { 'Last-Event-ID': first.cursor });
      await resumed.waitFor('the replay and the count', (s) => s.messages().length === 1 && heard(s).length === 1);
      const kinds = resumed.frames.filter((frame) => frame.retry === undefined).map((f) => f.event ?? f.id);
      expect(kinds).toEqual([second.cursor, 'presence']);
      // A reader that did not ask for presence hears none, in its replay or live.
      const plain = await stream(wall, '', { 'Last-Event-ID': first.cursor });
      await plain.waitForMessages(1, 'the replay of "two"');
      await postMessage(base, wall, 'three');
      await plain.waitForMessages(2, '"three", live');
      await untilHeard(resumed, 'the presence reader hears the plain reader arrive', 3);
      expect(plain.frames.filter((frame) => frame.event !== undefined)).toEqual([]);
    } finally {
      source.close();
    }
  });

  it('gives a stream of several walls each wall’s count, named in each event', async () => {
    const [one, two] = [newWall(), newWall()];
    const several = await openStream(base, `/api/events?walls=${one},${two}&presence=count&client=watcher-6`);
    opened.push(several);
    await stream(one, '&client=browser-G');
    await stream(two, '&client=browser-G');
    await stream(two, '&client=browser-H');
    await untilHeard(several, `${one}: the watcher and G`, 2, 3000, one);
    await untilHeard(several, `${two}: the watcher, G and H`, 3, 3000, two);
    expect([await onlineNow(base, one), await onlineNow(base, two)]).toEqual([2, 3]);
    expect(heard(several).every((event) => event.wall === one || event.wall === two)).toBe(true);
  });

  it('refuses a bad presence or client value with 400, and members without a token with 401', async () => {
    const refused = (path: string) => refusedStream(base, path);
    const wall = newWall();
    for (const presence of ['all', 'Count', '', 'count&presence=count']) {
      expect(await refused(`/api/walls/${wall}/events?presence=${presence}`), presence).toEqual({
        status: 400,
        code: 'invalid_presence',
      });
    }
    const clients = ['short', 'x'.repeat(65), 'has%20space', 'dot.ted-id', '%C3%A9moji-id', 'a1234567&client=b1234567'];
    for (const client of clients) {
      expect(await refused(`/api/walls/${wall}/events?client=${client}`), client).toEqual({
        status: 400,
        code: 'invalid_client',
      });
    }
    expect(await refused(`/api/events?walls=${wall},other&presence=nope`)).toEqual({
      status: 400,
      code: 'invalid_presence',
    });
    expect(await refused(`/api/walls/${wall}/events?presence=members`)).toEqual({ status: 401, code: 'token_missing' });
    expect(server.deps.hub.size).toBe(0);
    // The edges of a client id are taken.
    await stream(wall, `&client=${'a'.repeat(8)}`);
    await stream(wall, `&client=${'Z_-9'.repeat(16)}`);
    expect(await onlineNow(base, wall)).toBe(2);
  });
});

describe('presence across a restart of a server on SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wallcast-presence-'));
  // Longer than the others': everyone must be back within it, which a busy machine may take a while over.
  const graceMs = 1500;
  const env = { WALLCAST_STORE: `sqlite:${join(dir, 'wall.db')}`, WALLCAST_PRESENCE_GRACE_MS: String(graceMs) };
  const opened: RawSse[] = [];
  let server: RunningServer | undefined;
  afterAll(async () => {
    closeAll(opened);
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports nothing for a grace after the start, then the people back: a page never sees them leave', async () => {
    const wall = newWall();
    const open = async (query: string) => {
      const sse = await openStream((server as RunningServer).url, `/api/walls/${wall}/events?${query}`);
      opened.push(sse);
      return sse;
    };
    server = await startTestServer(env);
    await open('presence=count&client=watcher-10');
    await open('client=browser-I');
    expect(await onlineNow(server.url, wall)).toBe(2);
    await server.close();
    // Everyone comes back at once to the next start (a page in a second or so; here at once).
    const startMs = performance.now();
    server = await startTestServer(env);
    const after = await open('presence=count&client=watcher-10');
    await open('client=browser-I');
    // While settling, the people back so far are there to be read, but streams hear nothing.
    expect(await onlineNow(server.url, wall)).toBe(2);
    await untilHeard(after, 'the people back, once settled', 2, graceMs + 2000);
    // The tracker (and its settling) began after startMs: had it reported sooner, this would be short.
    expect(performance.now() - startMs).toBeGreaterThanOrEqual(graceMs);
    expect(counts(after)).toEqual([2]);
  });
});

describe('presence under a stream cap', () => {
  const CAP = 4;
  let server: RunningServer;
  beforeAll(async () => {
    // The contract's 10 s grace: every fresh client id below would stay counted for the whole test.
    server = await startTestServer({ WALLCAST_MAX_SUBSCRIBERS: String(CAP) });
  });
  afterAll(() => server.close());

  it('cannot be inflated past the streams the server accepts, even with a fresh client id each time', async () => {
    const wall = newWall();
    const watcher = await openStream(server.url, `/api/walls/${wall}/events?client=watcher-7`);
    const seen: number[] = [];
    try {
      for (let i = 0; i < 3 * CAP; i++) {
        const sse = await openStream(server.url, `/api/walls/${wall}/events?client=fresh-id-${i}`);
        seen.push(await onlineNow(server.url, wall));
        sse.close();
        await until('the server saw it go', 3000, () => server.deps.hub.size === 1);
        seen.push(await onlineNow(server.url, wall));
      }
    } finally {
      watcher.close();
    }
    expect(Math.max(...seen), `counts ${seen.join(' ')}`).toBeLessThanOrEqual(CAP);
  });
});
