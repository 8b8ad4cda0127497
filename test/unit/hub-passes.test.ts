/**
 * The hub's passes on real sockets: a wall with more streams than one turn
 * writes is written over several turns, what is posted meanwhile joins the
 * same write for the streams not reached yet, and every stream still gets
 * every event once, in order.
 */
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMessage } from '../../src/posting.js';
import type { WallEvent } from '../../src/store/store.js';
import { WRITES_PER_TURN } from '../../src/stream/hub.js';
import { until } from '../support/deadlines.js';
import { RawSse } from '../support/sse-reader.js';
import { type Harness, streamServer } from '../support/stream-harness.js';

const STREAMS = WRITES_PER_TURN * 2 + 100;

describe('Hub passes', () => {
  let harness: Harness | undefined;
  const readers: RawSse[] = [];
  afterEach(() => {
    for (const reader of readers.splice(0)) reader.close();
    harness?.close();
  });

  it('spread a wall over turns, join what came meanwhile into one write, and deliver each event once', async () => {
    harness = await streamServer();
    const { hub, store, streams, live } = harness;
    for (let i = 0; i < STREAMS; i++) readers.push(new RawSse(harness.url));
    await until('every stream open', 10_000, () => live.length === STREAMS);
    await Promise.all(live);
    // Stored after every stream is live from the empty wall's head; the test feeds them to the hub.
    const events: WallEvent[] = [];
    store.onEvent((_wall, event) => events.push(event));
    for (let i = 1; i <= 6; i++) await store.append(createMessage('w', '', `m${i}`));
    const at = (n: number) => events[n - 1] as WallEvent;
    // Counts the hub's writes from here (the head, retry: and the stream's id-only head are written before).
    let writes = 0;
    for (const stream of streams) {
      const socket = stream.output.socket as Socket;
      const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
      socket.write = ((...args: unknown[]) => {
        writes++;
        return write(...args);
      }) as typeof socket.write;
    }
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
