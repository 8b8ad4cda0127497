/**
 * Presence events to the streams that asked for them (issue 17): per wall,
 * one watcher of the presence tracker for `count` streams and one for
 * `members` streams, held while any such stream is live; each snapshot is
 * encoded once and written to every stream of its kind, at most
 * WRITES_PER_TURN a turn (like the hub's passes), so a wall of 10,000
 * watching streams never holds the loop. Streams that did not ask are never
 * visited: walls without presence cost nothing.
 *
 * A presence event has no `id:` (§9.2.6: the last event ID stays as it was):
 * it is never stored or replayed, and never moves Last-Event-ID.
 */
import { type PresenceSnapshot, sameSnapshot } from '../presence/presence-snapshot.js';
import type { PresenceTracker } from '../presence/presence-tracker.js';
import { encodeEvent } from './frames.js';
import { WRITES_PER_TURN } from './hub.js';
import type { OpenStream } from './subscription.js';

export type PresenceAsk = 'count' | 'members';

interface Audience {
  readonly streams: Set<OpenStream>;
  /**
   * Streams gone live since the last send, with the snapshot they got then.
   * A stream that arrives as a new person goes live with the new count
   * while the window its arrival opened is still to send that count: told
   * again, it would hear one number twice. Emptied by every send; never
   * larger than `streams`.
   */
  fresh: Map<OpenStream, PresenceSnapshot>;
  unwatch: () => void;
}

export class PresenceFanout {
  /** `${ask}\n${wall}` → the live streams that asked. */
  readonly #audiences = new Map<string, Audience>();

  constructor(private readonly tracker: PresenceTracker) {}

  /** A stream that asked goes live on `wall`: it hears the snapshot known now, then every change. */
  add(stream: OpenStream, wall: string, ask: PresenceAsk): void {
    const key = `${ask}\n${wall}`;
    let audience = this.#audiences.get(key);
    if (audience === undefined) {
      const created: Audience = { streams: new Set(), fresh: new Map(), unwatch: () => {} };
      created.unwatch = this.tracker.watch(wall, { members: ask === 'members' }, (snapshot) =>
        this.#send(created, snapshot),
      );
      this.#audiences.set(key, created);
      audience = created;
    }
    audience.streams.add(stream);
    const now = this.tracker.current(wall, { members: ask === 'members' });
    if (now === undefined) return;
    audience.fresh.set(stream, now);
    if (!stream.output.write(frameOf(now), Date.now(), true)) stream.slow();
  }

  /** The stream is gone: out of its audiences, and a wall nobody watches any more is unwatched. */
  remove(stream: OpenStream, wall: string, ask: PresenceAsk): void {
    const key = `${ask}\n${wall}`;
    const audience = this.#audiences.get(key);
    if (audience === undefined || !audience.streams.delete(stream)) return;
    audience.fresh.delete(stream);
    if (audience.streams.size > 0) return;
    this.#audiences.delete(key);
    audience.unwatch();
  }

  #send(audience: Audience, snapshot: PresenceSnapshot): void {
    const frame = frameOf(snapshot);
    const fresh = audience.fresh;
    audience.fresh = new Map();
    // A Set iterator skips streams removed meanwhile and visits ones added (they had `current`: a repeat is harmless).
    const pending = audience.streams.values();
    const slice = () => {
      const now = Date.now();
      for (let written = 0; written < WRITES_PER_TURN; written++) {
        const next = pending.next();
        if (next.done === true) return;
        const stream = next.value;
        if (stream.closed || sameSnapshot(snapshot, fresh.get(stream))) continue;
        if (!stream.output.write(frame, now, true)) stream.slow();
      }
      setImmediate(slice);
    };
    slice();
  }
}

/** `event: presence` with the snapshot as data, and no id. */
function frameOf(snapshot: PresenceSnapshot): Buffer {
  return Buffer.from(encodeEvent({ event: 'presence', data: JSON.stringify(snapshot) }));
}
