/**
 * Presence news rides with the events (issue 17's benchmark: presence may
 * cost at most 5% more CPU per delivery): the hub writes a wall's presence
 * snapshot to the streams that asked in the same syscall as their next
 * events, on its own only when no events come soon, never twice the same
 * numbers, and never to a stream that did not ask.
 */
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMessage } from '../../src/posting.js';
import type { PresenceSnapshot } from '../../src/presence/presence-snapshot.js';
import type { WallEvent } from '../../src/store/store.js';
import { encodeEvent } from '../../src/stream/frames.js';
import { until } from '../support/deadlines.js';
import { RawSse } from '../support/sse-reader.js';
import { type Harness, streamServer } from '../support/stream-harness.js';

/** Counts the syscall-level writes of a socket: `_write` for one chunk, `_writev` for the chunks of a corked run. */
function countWrites(socket: Socket): { count: number } {
  const counter = { count: 0 };
  const target = socket as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>;
  for (const name of ['_write', '_writev'] as const) {
    const original = target[name].bind(socket);
    target[name] = (...args: unknown[]) => {
      counter.count++;
      return original(...args);
    };
  }
  return counter;
}

/** The counts a reader heard in presence events. */
const heard = (sse: RawSse) =>
  sse.frames
    .filter((f) => f.event === 'presence')
    .map((f) => (JSON.parse(f.data as string) as PresenceSnapshot).online);

const news = (online: number) => {
  const snapshot: PresenceSnapshot = { wall: 'w', online };
  return { snapshot, frame: Buffer.from(encodeEvent({ event: 'presence', data: JSON.stringify(snapshot) })) };
};

describe('presence news in the hub', () => {
  let harness: Harness | undefined;
  afterEach(() => harness?.close());

  async function setup() {
    harness = await streamServer({ presence: 'count' });
    const asking = [new RawSse(harness.url), new RawSse(harness.url)];
    await until('both live', 2000, () => harness?.live.length === 2);
    await Promise.all(harness.live);
    const counters = harness.streams.map((stream) => countWrites(stream.output.socket as Socket));
    const events: WallEvent[] = [];
    harness.store.onEvent((_wall, event) => events.push(event));
    return { hub: harness.hub, store: harness.store, asking, counters, events };
  }

  it('goes out in one write with the next events, and the same numbers never twice', async () => {
    const { hub, store, asking, counters, events } = await setup();
    hub.presence('w', 'count', news(3));
    await store.append(createMessage('w', '', 'hello'));
    hub.publish('w', events[0] as WallEvent);
    await until('message and presence at both', 2000, () =>
      asking.every((s) => s.messages().length === 1 && heard(s).includes(3)),
    );
    expect(counters.map((c) => c.count)).toEqual([1, 1]);
    // The same numbers again (a new object): nothing is written.
    hub.presence('w', 'count', news(3));
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(counters.map((c) => c.count)).toEqual([1, 1]);
    for (const s of asking) expect(heard(s).filter((online) => online === 3)).toHaveLength(1);
  });

  it('goes out on its own, without an id, when no events come within the join time', async () => {
    const { hub, asking, counters } = await setup();
    const started = Date.now();
    hub.presence('w', 'count', news(5));
    await until('presence at both', 2000, () => asking.every((s) => heard(s).includes(5)));
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect(counters.map((c) => c.count)).toEqual([1, 1]);
    const frame = asking[0]?.frames.find((f) => f.event === 'presence' && f.data?.includes('"online":5'));
    expect(frame).toEqual({ event: 'presence', data: '{"wall":"w","online":5}' });
  });
});
