/**
 * One open event stream's subscription to one wall, as the hub sees it. A
 * stream that follows several walls has one Subscriber per wall, all
 * writing to the same `StreamOut`.
 *
 * A subscription moves through four states, forward only:
 *
 *     replaying ──goLive──▶ live ◀─────────────┐
 *         │                                    │ the first event past the cursor
 *         └────goLive──▶ catching-up ──────────┘
 *     any ──close──▶ closed
 *
 * - replaying: the route writes the replay page by page; live events that
 *   arrive meanwhile are held (bounded, like a slow socket).
 * - catching-up: the replay ended and nothing held came after it. A shared
 *   store's feed lags its reads, so it may still bring events the replay
 *   already sent: those are dropped until the first event past the cursor.
 *   The feed is in cursor order, so everything after that one is new.
 * - live: every event of the wall is written as it comes.
 * - closed: the client left, was evicted, or the server is shutting down.
 */
import type { Duplex } from 'node:stream';
import { encodeWallEvent, joinFrames, PING, type StreamFormat, type StreamResponse } from './sse.js';
import type { WallEvent } from './store/store.js';

export type SubscriberState = 'replaying' | 'catching-up' | 'live' | 'closed';

/**
 * Where a stream's bytes go: its socket on HTTP/1.1 (the response is
 * close-delimited, so the socket carries exactly the event stream) or its
 * HTTP/2 stream, with the bound on what may queue there and the time of the
 * last write, for heartbeats.
 */
export class StreamOut {
  lastWriteMs = Date.now();
  /** The stream's subscriptions, one per wall it follows (set once by the hub). */
  subscribers: Subscriber[] = [];

  constructor(
    /** The response, to end it gracefully. */
    readonly res: StreamResponse,
    readonly socket: Duplex,
    /** Bytes queued for this client before it is evicted. */
    readonly slowClientBytes: number,
  ) {}

  /** Writes `bytes`; false when, with `bounded`, the client is now past the bound. */
  write(bytes: Buffer, nowMs: number, bounded: boolean): boolean {
    const socket = this.socket;
    if (socket.destroyed) return true;
    socket.write(bytes);
    this.lastWriteMs = nowMs;
    // Bounded per client: a reader that stopped would otherwise grow this
    // process without limit (a socket write never refuses).
    return !bounded || socket.writableLength <= this.slowClientBytes;
  }

  /** Resolves once the client has taken what was written down to the bound, or is gone. */
  async drained(): Promise<void> {
    const socket = this.socket;
    while (!socket.destroyed && socket.writableLength > this.slowClientBytes) {
      await new Promise<void>((resolve) => {
        const done = () => {
          socket.off('drain', done).off('close', done);
          resolve();
        };
        socket.once('drain', done).once('close', done);
      });
    }
  }
}

export interface SubscriberOptions {
  /** The store's cursor order, to drop replayed events from the live feed. */
  compareCursors: (a: string, b: string) => number;
  /** Called when the client falls behind the bound; the hub evicts it. */
  onSlow: (subscriber: Subscriber) => void;
}

export class Subscriber {
  /**
   * The hub's count of its wall's live events this subscriber was offered
   * (a sequence number of the wall's log): the next pass offers it the ones
   * after. Only the hub reads and sets it.
   */
  delivered = 0;
  #state: SubscriberState = 'replaying';
  /** Where the replay reached: its last event's cursor, or where it started. */
  #cursor: string | undefined;
  /** Live events that arrived while replaying; bounded by `#heldBytes`. */
  #held: WallEvent[] = [];
  #heldBytes = 0;

  constructor(
    readonly wall: string,
    readonly out: StreamOut,
    private readonly options: SubscriberOptions,
    /** Undefined for the plain stream: one wall, JSON data, the frames every such stream shares. */
    readonly format?: StreamFormat,
  ) {}

  get state(): SubscriberState {
    return this.#state;
  }

  get closed(): boolean {
    return this.#state === 'closed';
  }

  /** Where the replay reached (undefined until its first page): the next page reads after it. */
  get cursor(): string | undefined {
    return this.#cursor;
  }

  /**
   * One page of the replay. Not bounded like live writes: a replay may be
   * larger than the bound, and the route waits for `drained` before the
   * next page instead.
   */
  writeReplay(bytes: Buffer | undefined, cursor: string): void {
    if (this.#state !== 'replaying') return;
    this.#cursor = cursor;
    if (bytes !== undefined) this.out.write(bytes, Date.now(), false);
  }

  /** Ends the replay: writes what was held meanwhile, past the replay's end. */
  goLive(): void {
    if (this.#state !== 'replaying') return;
    const after = this.#after(this.#held);
    this.#held = [];
    this.#heldBytes = 0;
    if (after.length === 0) {
      this.#state = 'catching-up';
      return;
    }
    this.#state = 'live';
    this.#send(after, undefined, Date.now());
  }

  /**
   * The hub's flush: this tick's events of the wall, with `frame`, their
   * plain frames joined once for every plain live stream. Returns how many
   * were written.
   */
  offer(events: WallEvent[], frame: Buffer, nowMs: number): number {
    switch (this.#state) {
      case 'live':
        this.#send(events, frame, nowMs);
        return events.length;
      case 'replaying':
        this.#hold(events);
        return 0;
      case 'catching-up': {
        const after = this.#after(events);
        if (after.length === 0) return 0;
        this.#state = 'live';
        this.#send(after, after.length === events.length ? frame : undefined, nowMs);
        return after.length;
      }
      default:
        return 0;
    }
  }

  /** A `: ping` when the stream wrote nothing since `idleSinceMs`, so proxies and clients see traffic. */
  heartbeat(nowMs: number, idleSinceMs: number): void {
    if (this.#state !== 'closed' && this.out.lastWriteMs <= idleSinceMs && !this.out.write(PING, nowMs, true)) {
      this.options.onSlow(this);
    }
  }

  /** Marks the subscription closed; returns false when it already was. */
  markClosed(): boolean {
    if (this.#state === 'closed') return false;
    this.#state = 'closed';
    this.#held = [];
    return true;
  }

  /** Cuts the connection now (the client reconnects and replays from its cursor). */
  destroy(): void {
    this.out.socket.destroy();
  }

  /** Graceful end: `goodbye` (a short `retry:`), then the end of the response. */
  end(goodbye: string): void {
    if (this.#state === 'closed' || this.out.socket.destroyed || this.out.res.writableEnded) return;
    this.out.socket.write(goodbye);
    this.out.res.end();
  }

  #hold(events: WallEvent[]): void {
    for (const event of events) {
      this.#held.push(event);
      this.#heldBytes += encodeWallEvent(event).length;
    }
    // Same bound and same remedy as a slow socket: the client reconnects and
    // replays from its last event, instead of this process holding its backlog.
    if (this.#heldBytes > this.out.slowClientBytes) this.options.onSlow(this);
  }

  /** The events strictly after what this client was last sent. */
  #after(events: WallEvent[]): WallEvent[] {
    const cursor = this.#cursor;
    if (cursor === undefined) return events;
    const compare = this.options.compareCursors;
    return events.filter((event) => compare(event.cursor, cursor) > 0);
  }

  /** Writes live events: the shared `frame` for a plain stream (when given), else this stream's own encoding. */
  #send(events: WallEvent[], frame: Buffer | undefined, nowMs: number): void {
    const bytes = this.format?.encode(this.wall, events) ?? frame ?? joinFrames(events);
    if (!this.out.write(bytes, nowMs, true)) this.options.onSlow(this);
  }
}
