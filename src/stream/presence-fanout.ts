/**
 * Presence events to the streams that asked for them (issue 17): per wall,
 * one watcher of the presence tracker for `count` streams and one for
 * `members` streams, held while any such stream is live. A stream hears the
 * snapshot known when it goes live; every change after that is encoded once
 * and handed to the hub (hub.ts, `presence`), which writes it to each
 * subscription that asked in the same write as its next events, or in a
 * pass of its own when no events come soon: presence under churn costs no
 * write of its own on a wall with posts. Streams that did not ask cost a
 * property read per pass; walls without presence cost nothing.
 *
 * A presence event has no `id:` (§9.2.6: the last event ID stays as it was):
 * it is never stored or replayed, and never moves Last-Event-ID.
 */
import type { PresenceNeed } from '../presence/presence-share.js';
import type { PresenceSnapshot } from '../presence/presence-snapshot.js';
import type { PresenceTracker } from '../presence/presence-tracker.js';
import { encodeEvent } from './frames.js';
import type { Hub } from './hub.js';
import type { OpenStream } from './subscription.js';

/** What a stream asked for (`?presence=`): what the share is followed for. */
export type PresenceAsk = PresenceNeed;

interface Audience {
  /** The live streams that asked: while any is, the tracker is watched. */
  readonly streams: Set<OpenStream>;
  unwatch: () => void;
}

export class PresenceFanout {
  /** `${ask}\n${wall}` → the live streams that asked. */
  readonly #audiences = new Map<string, Audience>();

  constructor(
    private readonly tracker: PresenceTracker,
    private readonly hub: Hub,
  ) {}

  /** A stream that asked goes live on `wall`: it hears the snapshot known now, then every change. */
  add(stream: OpenStream, wall: string, ask: PresenceAsk): void {
    const key = `${ask}\n${wall}`;
    let audience = this.#audiences.get(key);
    if (audience === undefined) {
      const created: Audience = { streams: new Set(), unwatch: () => {} };
      created.unwatch = this.tracker.watch(wall, { members: ask === 'members' }, (snapshot) =>
        this.hub.presence(wall, ask, { snapshot, frame: frameOf(snapshot) }),
      );
      this.#audiences.set(key, created);
      audience = created;
    }
    audience.streams.add(stream);
    const subscription = stream.subscriptions.find((each) => each.wall === wall);
    if (subscription === undefined) return;
    subscription.presenceAsk = ask;
    const now = this.tracker.current(wall, { members: ask === 'members' });
    if (now === undefined) return;
    // What it is told now, it is not told again (a stream that arrives as a new person hears its count once).
    subscription.presenceSent = now;
    if (!stream.output.write(frameOf(now), Date.now(), true)) stream.slow();
  }

  /** The stream is gone: out of its audiences, and a wall nobody watches any more is unwatched. */
  remove(stream: OpenStream, wall: string, ask: PresenceAsk): void {
    const key = `${ask}\n${wall}`;
    const audience = this.#audiences.get(key);
    if (audience === undefined || !audience.streams.delete(stream)) return;
    if (audience.streams.size > 0) return;
    this.#audiences.delete(key);
    audience.unwatch();
  }
}

/** `event: presence` with the snapshot as data, and no id. */
function frameOf(snapshot: PresenceSnapshot): Buffer {
  return Buffer.from(encodeEvent({ event: 'presence', data: JSON.stringify(snapshot) }));
}
