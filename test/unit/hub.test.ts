/**
 * The hub on real sockets, fed by hand: the orderings a shared store's
 * lagging feed produces, which the end-to-end tests cannot time on purpose.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Hub } from '../../src/hub.js';
import { createMessage } from '../../src/posting.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import type { WallEvent } from '../../src/store/store.js';
import type { Subscriber } from '../../src/subscriber.js';
import { until } from '../support/deadlines.js';
import { RawSse } from '../support/sse-reader.js';

describe('Hub', () => {
  let server: http.Server | undefined;
  afterEach(() => {
    server?.closeAllConnections();
    server?.close();
  });

  async function setup() {
    const store = new MemoryStore({ historySize: 100, historyBytes: 1 << 20, maxWalls: 10 });
    for (let i = 1; i <= 9; i++) await store.append(createMessage('w', '', `m${i}`));
    const events = (await store.read('w', { limit: 9 })).events;
    const at = (n: number) => events[n - 1] as WallEvent;
    const hub = new Hub({
      heartbeatMs: 60_000,
      slowClientBytes: 1 << 20,
      compareCursors: (a, b) => store.compareCursors(a, b),
    });
    let opened: ((s: Subscriber) => void) | undefined;
    const subscribed = new Promise<Subscriber>((resolve) => {
      opened = resolve;
    });
    server = http.createServer((_req, res) => opened?.(hub.openStream(['w'], res, 1000)?.[0] as Subscriber));
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const sse = new RawSse(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const subscriber = await subscribed;
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    return { hub, at, sse, subscriber, tick, head: (await store.read('w', { limit: 1 })).head };
  }

  it('never repeats what the replay sent when the live feed lags behind it over several flushes', async () => {
    const { hub, at, sse, subscriber, tick, head } = await setup();
    hub.publish('w', at(5));
    await tick();
    hub.replay(subscriber, { events: [at(5), at(6), at(7)], head, start: at(4).cursor }, false);
    hub.goLive(subscriber);
    hub.publish('w', at(6));
    await tick();
    hub.publish('w', at(7));
    await tick();
    hub.publish('w', at(8));
    await tick();
    await sse.waitForMessages(4, 'm5 to m8');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sse.messages().map((m) => m.body)).toEqual(['m5', 'm6', 'm7', 'm8']);
    sse.close();
  });

  it('writes events held during the replay that come after it, once', async () => {
    const { hub, at, sse, subscriber, tick, head } = await setup();
    hub.publish('w', at(3));
    hub.publish('w', at(4));
    await tick();
    hub.replay(subscriber, { events: [at(2), at(3)], head, start: at(1).cursor }, false);
    hub.publish('w', at(5));
    await tick();
    hub.goLive(subscriber);
    hub.publish('w', at(6));
    await tick();
    await sse.waitForMessages(5, 'm2 to m6');
    expect(sse.messages().map((m) => m.body)).toEqual(['m2', 'm3', 'm4', 'm5', 'm6']);
    await until('one subscriber', 1000, () => hub.size === 1);
    sse.close();
    await until('removed on close', 2000, () => hub.size === 0);
  });
});
