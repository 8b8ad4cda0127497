/**
 * A stream from replay to live on real sockets, with the hub fed by hand:
 * the orderings a shared store's lagging feed produces (an event heard live
 * before, during or after the replay that also holds it), which the
 * end-to-end tests cannot time on purpose.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMessage } from '../../src/posting.js';
import type { WallEvent } from '../../src/store/store.js';
import { until } from '../support/deadlines.js';
import { RawSse } from '../support/sse-reader.js';
import { type Harness, streamServer } from '../support/stream-harness.js';

describe('a stream between replay and live', () => {
  let harness: Harness | undefined;
  afterEach(() => harness?.close());

  /** A wall with m1…m`count` in the store (not fed to the hub: the test feeds it). */
  async function setup(count: number) {
    harness = await streamServer();
    const { store } = harness;
    for (let i = 1; i <= count; i++) await store.append(createMessage('w', '', `m${i}`));
    const events = (await store.read('w', { limit: count })).events;
    const at = (n: number) => events[n - 1] as WallEvent;
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    // From here, `reads` counts the stream's own.
    store.reads = 0;
    return { ...harness, at, tick };
  }

  it('never repeats what the replay sent when the live feed lags behind it over several flushes', async () => {
    const { hub, store, at, tick, url, live } = await setup(7);
    store.hold();
    const sse = new RawSse(url, { 'Last-Event-ID': at(4).cursor });
    await until('the replay read under way', 2000, () => store.reads === 1);
    // Heard live while the replay (m5 to m7) is read: held, then dropped as already sent.
    hub.publish('w', at(5));
    await tick();
    store.release();
    await until('live', 2000, () => live.length === 1);
    await live[0];
    hub.publish('w', at(6));
    await tick();
    hub.publish('w', at(7));
    await tick();
    await store.append(createMessage('w', '', 'm8'));
    hub.publish('w', (await store.read('w', { limit: 1 })).events[0] as WallEvent);
    await tick();
    await sse.waitForMessages(4, 'm5 to m8');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sse.messages().map((m) => m.body)).toEqual(['m5', 'm6', 'm7', 'm8']);
    sse.close();
  });

  it('writes events held during the replay that come after it, once', async () => {
    const { hub, store, at, tick, url, live } = await setup(3);
    store.hold();
    const sse = new RawSse(url, { 'Last-Event-ID': at(1).cursor });
    await until('the replay read under way', 2000, () => store.reads === 1);
    // The read (m2, m3) is done; m3 to m5 are heard live before the stream is: m4 and m5 are new.
    const later: WallEvent[] = [];
    store.onEvent((_wall, event) => later.push(event));
    for (let n = 4; n <= 6; n++) await store.append(createMessage('w', '', `m${n}`));
    hub.publish('w', at(3));
    hub.publish('w', later[0] as WallEvent);
    await tick();
    hub.publish('w', later[1] as WallEvent);
    await tick();
    store.release();
    await live[0];
    hub.publish('w', later[2] as WallEvent);
    await tick();
    await sse.waitForMessages(5, 'm2 to m6');
    expect(sse.messages().map((m) => m.body)).toEqual(['m2', 'm3', 'm4', 'm5', 'm6']);
    await until('one stream', 1000, () => hub.size === 1);
    sse.close();
    await until('removed on close', 2000, () => hub.size === 0);
  });

  it('gives a fresh stream of a wall with nothing to replay the head to resume from, before anything live', async () => {
    const { hub, store, tick, url, live } = await setup(0);
    const sse = new RawSse(url);
    await until('live', 2000, () => live.length === 1);
    await live[0];
    const head = (await store.read('w', { limit: 1 })).head;
    await store.append(createMessage('w', '', 'first'));
    hub.publish('w', (await store.read('w', { limit: 1 })).events[0] as WallEvent);
    await tick();
    await sse.waitForMessages(1, 'the first message');
    const ids = sse.frames.filter((f) => f.id !== undefined).map((f) => [f.id, f.data === undefined]);
    expect(ids[0]).toEqual([head, true]);
    expect(ids).toHaveLength(2);
    sse.close();
  });
});
