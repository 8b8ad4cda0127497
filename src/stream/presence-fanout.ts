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
import type { PresenceSnapshot } from '../presence/presence-snapshot.js';
import type { PresenceTracker } from '../presence/presence-tracker.js';
import { encodeEvent } from './frames.js';
import { WRITES_PER_TURN } from './hub.js';
import type { OpenStream } from './subscription.js';

export type PresenceAsk = 'count' | 'members';

interface Audience {
  readonly streams: Set<OpenStream>;
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
      const streams = new Set<OpenStream>();
      const created: Audience = { streams, unwatch: () => {} };
      created.unwatch = this.tracker.watch(wall, { members: ask === 'members' }, (snapshot) =>
        this.#send(streams, snapshot),
      );
      this.#audiences.set(key, created);
      audience = created;
    }
    audience.streams.add(stream);
    const now = this.tracker.current(wall, { members: ask === 'members' });
    if (now !== undefined && !stream.output.write(frameOf(now), Date.now(), true)) stream.slow();
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

  #send(streams: Set<OpenStream>, snapshot: PresenceSnapshot): void {
    const frame = frameOf(snapshot);
    // A Set iterator skips streams removed meanwhile and visits ones added (they had `current`: a repeat is harmless).
    const pending = streams.values();
    const slice = () => {
      const now = Date.now();
      for (let written = 0; written < WRITES_PER_TURN; written++) {
        const next = pending.next();
        if (next.done === true) return;
        const stream = next.value;
        if (!stream.closed && !stream.output.write(frame, now, true)) stream.slow();
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
