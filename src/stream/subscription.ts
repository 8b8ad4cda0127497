/**
 * A stream's subscription to one wall, as the hub sees it: the hub offers
 * it the wall's live events, and it passes them to its stream once the
 * stream's replay of the wall is written. A stream that follows several
 * walls has one subscription per wall.
 *
 * Replay-then-live (Mercure's `localsubscriber.go` does the same): the
 * subscription is registered with the hub *before* the wall's replay is
 * read, so nothing posted while the read is in flight is missed. It moves
 * forward only:
 *
 *     replaying ──goLive──▶ live ◀─────────────┐
 *         │                                    │ the first event past the position
 *         └────goLive──▶ catching-up ──────────┘
 *
 * - replaying: the stream writes the replay page by page; live events that
 *   arrive meanwhile are held (bounded, like a slow socket).
 * - catching-up: the replay ended and nothing held came after it. A shared
 *   store's feed lags its reads, so it may still bring events the replay
 *   already sent: those are dropped until the first event past the stream's
 *   position in the wall. The feed is in cursor order, so everything after
 *   that one is new.
 * - live: every event of the wall goes to the stream as it comes.
 */
import type { PresenceNeed } from '../presence/presence-share.js';
import type { PresenceSnapshot } from '../presence/presence-snapshot.js';
import type { WallEvent } from '../store/store.js';
import type { StreamOutput } from './stream-output.js';
import type { StreamPosition } from './stream-position.js';

/** An open stream, as its subscriptions and the hub see it (stream.ts). */
export interface OpenStream {
  /** One per wall it follows. */
  readonly subscriptions: readonly Subscription[];
  readonly output: StreamOutput;
  readonly position: StreamPosition;
  readonly closed: boolean;
  /** Marks the stream closed; false when it already was (the hub calls it once it dropped the stream). */
  markClosed(): boolean;
  /** The store's cursor order, to drop what the replay already sent. */
  compareCursors(a: string, b: string): number;
  /** Writes live events of `wall`: `frame` is the hub's joined JSON frames, which a stream sends when its format uses them (`hubFrames`). */
  sendLive(wall: string, events: readonly WallEvent[], frame: Buffer | undefined, nowMs: number): void;
  /** The client fell behind the bound: the stream is evicted (it reconnects and replays). */
  slow(): void;
}

type State = 'replaying' | 'catching-up' | 'live';

export class Subscription {
  /**
   * The hub's count of its wall's live events this subscription was offered
   * (a sequence number of the wall's log): the next pass offers it the ones
   * after. Only the hub reads and sets it.
   */
  delivered = 0;
  /** The presence it gets once live, if its stream asked (issue 17); the hub writes it with its events. */
  presenceAsk: PresenceNeed | undefined;
  /** The presence snapshot it last had (the hub never writes the same numbers twice). */
  presenceSent: PresenceSnapshot | undefined;
  #state: State = 'replaying';
  /** Live events that arrived while replaying; bounded by `#heldBytes`. */
  #held: WallEvent[] | undefined;
  #heldBytes = 0;

  constructor(
    readonly wall: string,
    readonly stream: OpenStream,
  ) {}

  /** Ends the replay: passes on what was held meanwhile and comes after the stream's position. */
  goLive(): void {
    if (this.#state !== 'replaying') return;
    const after = this.#after(this.#held ?? []);
    this.#held = undefined;
    this.#heldBytes = 0;
    if (after.length === 0) {
      this.#state = 'catching-up';
      return;
    }
    this.#state = 'live';
    this.stream.sendLive(this.wall, after, undefined, Date.now());
  }

  /**
   * The hub's pass: the wall's events this subscription was not offered
   * yet, with `frame`, their plain frames joined once for every stream of a
   * shared format. Returns how many were passed on.
   */
  offer(events: WallEvent[], frame: Buffer, nowMs: number): number {
    // A closed stream's subscriptions are out of the hub's walls already (hub.remove): no check here.
    switch (this.#state) {
      case 'live':
        this.stream.sendLive(this.wall, events, frame, nowMs);
        return events.length;
      case 'replaying':
        this.#hold(events, frame);
        return 0;
      case 'catching-up': {
        const after = this.#after(events);
        if (after.length === 0) return 0;
        this.#state = 'live';
        this.stream.sendLive(this.wall, after, after.length === events.length ? frame : undefined, nowMs);
        return after.length;
      }
    }
  }

  /** `frame`: the events' plain frames joined (the hub's), whose length is what holding them costs. */
  #hold(events: WallEvent[], frame: Buffer): void {
    const held = (this.#held ??= []);
    for (const event of events) held.push(event);
    this.#heldBytes += frame.length;
    // Same bound and same remedy as a slow socket: the client reconnects and
    // replays from its last event, instead of this process holding its backlog.
    if (this.#heldBytes > this.stream.output.slowClientBytes) this.stream.slow();
  }

  /** The events strictly after where the stream stands in this wall. */
  #after(events: WallEvent[]): WallEvent[] {
    const cursor = this.stream.position.of(this.wall);
    if (cursor === undefined) return events;
    return events.filter((event) => this.stream.compareCursors(event.cursor, cursor) > 0);
  }
}
