/**
 * The hub's passes on real sockets: a wall with more streams than one turn
 * writes is written over several turns, what is posted meanwhile joins the
 * same write for the streams not reached yet, and every stream still gets
 * every event once, in order.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Hub, WRITES_PER_TURN } from '../../src/hub.js';
import { createMessage } from '../../src/posting.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import type { WallEvent } from '../../src/store/store.js';
import type { Subscriber } from '../../src/subscriber.js';
import { until } from '../support/deadlines.js';
import { RawSse } from '../support/sse-reader.js';

const STREAMS = WRITES_PER_TURN * 2 + 100;

describe('Hub passes', () => {
  let server: http.Server | undefined;
  const readers: RawSse[] = [];
  afterEach(() => {
    for (const reader of readers.splice(0)) reader.close();
    server?.closeAllConnections();
    server?.close();
  });

  it('spread a wall over turns, join what came meanwhile into one write, and deliver each event once', async () => {
    const store = new MemoryStore({ historySize: 100, historyBytes: 1 << 20, maxWalls: 10 });
    for (let i = 1; i <= 6; i++) await store.append(createMessage('w', '', `m${i}`));
    const events = (await store.read('w', { limit: 6 })).events;
    const at = (n: number) => events[n - 1] as WallEvent;
    const hub = new Hub({
      heartbeatMs: 60_000,
      slowClientBytes: 1 << 20,
      compareCursors: (a, b) => store.compareCursors(a, b),
    });
    let writes = 0;
    const subscribers: Subscriber[] = [];
    server = http.createServer((_req, res) => {
      const subscriber = hub.openStream(['w'], res, 1000)?.[0] as Subscriber;
      // Counts the hub's writes on this socket (the head and retry: are written before).
      const socket = res.socket as NonNullable<typeof res.socket>;
      const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
      socket.write = ((...args: unknown[]) => {
        writes++;
        return write(...args);
      }) as typeof socket.write;
      hub.goLive(subscriber);
      subscribers.push(subscriber);
    });
    server.maxConnections = STREAMS + 10;
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    for (let i = 0; i < STREAMS; i++) readers.push(new RawSse(url));
    await until('every stream open', 10_000, () => subscribers.length === STREAMS);
    const tick = () => new Promise((resolve) => setImmediate(resolve));

    hub.publish('w', at(1));
    await tick();
    // One turn wrote at most its budget, not the whole wall.
    const afterOneTurn = hub.stats().deliveries;
    expect(afterOneTurn).toBeGreaterThan(0);
    expect(afterOneTurn).toBeLessThanOrEqual(WRITES_PER_TURN);
    // Posted while the pass runs: the streams not reached yet get m1 and m2 in one write.
    hub.publish('w', at(2));
    await until('m1 and m2 delivered to every stream', 10_000, () => hub.stats().deliveries === STREAMS * 2);
    expect(writes).toBeLessThan(STREAMS * 2);
    expect(writes).toBeGreaterThanOrEqual(STREAMS);

    // A burst over several turns: still once each, in order.
    for (let n = 3; n <= 6; n++) {
      hub.publish('w', at(n));
      if (n % 2 === 0) await tick();
    }
    await until('m1 to m6 delivered to every stream', 10_000, () => hub.stats().deliveries === STREAMS * 6);
    await until('every reader has m1 to m6', 10_000, () => readers.every((r) => r.messages().length >= 6));
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const reader of readers) {
      expect(reader.messages().map((m) => m.body)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    }
  });
});
