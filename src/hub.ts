/**
 * Local fan-out: the open event streams of each wall, fed from the store's
 * live feed. An event is encoded once and the same bytes go to every stream.
 *
 * Hot path: `publish` only queues; one `setImmediate` flush per tick joins
 * everything queued for a wall into one Buffer and writes it straight to
 * each client's socket, so a burst of posts costs one write per client per
 * tick instead of one per event.
 *
 * Why the socket and not `ServerResponse.write`: the response is sent
 * without chunked encoding (close-delimited, as HTTP/1.1 allows for a body
 * that ends with the connection), so the body bytes on the socket are
 * exactly the event stream. `res.write` would cork the socket and schedule
 * an uncork per client per event; a plain `socket.write` is one syscall.
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { encodeEvent, encodeRetry, encodeWallEvent, PING, SSE_HEADERS } from './sse.js';
import type { ReadResult, WallEvent } from './store/store.js';

export interface HubOptions {
  /** Idle time after which a stream gets a `: ping` comment. Default 15 000. */
  heartbeatMs: number;
  /** Bytes queued for one client before it is disconnected. Default 1 MiB. */
  slowClientBytes: number;
  /** The store's cursor order, to drop replayed events from the live feed. */
  compareCursors: (a: string, b: string) => number;
}

const REPLAYING = 0;
const LIVE = 1;
const CLOSED = 2;
type State = typeof REPLAYING | typeof LIVE | typeof CLOSED;

/** The heartbeat sweep runs this many times per heartbeat interval. */
const SWEEPS_PER_HEARTBEAT = 4;

export class Subscriber {
  state: State = REPLAYING;
  /** The cursor of the last event written, once the replay has set it. */
  cursor: string | undefined;
  /** Live events that arrived while the replay was read; bounded by `pendingBytes`. */
  pending: WallEvent[] = [];
  pendingBytes = 0;
  /**
   * Live, but the live feed may still bring events the replay already sent
   * (a shared store's feed lags its reads). Cleared by the first event past
   * `cursor`: the feed is in cursor order, so everything after it is new.
   */
  catchingUp = false;
  lastWriteMs = Date.now();

  constructor(
    readonly wall: string,
    readonly res: ServerResponse,
    readonly socket: Socket,
  ) {}

  get closed(): boolean {
    return this.state === CLOSED;
  }
}

interface WallFanout {
  readonly wall: string;
  readonly subscribers: Set<Subscriber>;
  /** Events published since the last flush, in cursor order. */
  queue: WallEvent[];
}

export interface HubStats {
  subscribers: number;
  deliveries: number;
  slowDisconnects: number;
}

export class Hub {
  readonly #walls = new Map<string, WallFanout>();
  readonly #dirty: WallFanout[] = [];
  #flushScheduled = false;
  #size = 0;
  #deliveries = 0;
  #lastReplay: { first: WallEvent | undefined; last: WallEvent | undefined; count: number; bytes: Buffer } | undefined;
  #slowDisconnects = 0;
  readonly #sweep: NodeJS.Timeout;

  constructor(readonly options: HubOptions) {
    const sweepMs = Math.max(10, Math.floor(options.heartbeatMs / SWEEPS_PER_HEARTBEAT));
    this.#sweep = setInterval(() => this.#heartbeat(), sweepMs);
    this.#sweep.unref();
  }

  get size(): number {
    return this.#size;
  }

  stats(): HubStats {
    return { subscribers: this.#size, deliveries: this.#deliveries, slowDisconnects: this.#slowDisconnects };
  }

  /**
   * Starts a stream: sends the headers and `retry:` at once, and registers
   * the subscriber before its replay is read, so that nothing posted in
   * between is missed; live events wait in `pending` until `goLive`.
   */
  open(wall: string, res: ServerResponse, retryMs: number): Subscriber | undefined {
    const socket = res.socket;
    // A pipelined request has no socket until the one before it ends; an SSE
    // client never pipelines behind a stream, so refuse rather than queue.
    if (socket === null || socket.destroyed) return undefined;
    res.useChunkedEncodingByDefault = false;
    res.writeHead(200, SSE_HEADERS);
    socket.cork();
    res.flushHeaders();
    socket.write(encodeRetry(retryMs));
    socket.uncork();

    const subscriber = new Subscriber(wall, res, socket);
    let fanout = this.#walls.get(wall);
    if (fanout === undefined) {
      fanout = { wall, subscribers: new Set(), queue: [] };
      this.#walls.set(wall, fanout);
    }
    fanout.subscribers.add(subscriber);
    this.#size++;
    res.once('close', () => this.#remove(subscriber));
    return subscriber;
  }

  /**
   * Writes one page of replay. With `fresh` (no position asked, or a reset)
   * and nothing to replay, an id-only event still gives the client the
   * head cursor to resume from (WHATWG §9.2.6: `id` without `data` sets
   * the last event ID without dispatching).
   */
  replay(subscriber: Subscriber, page: ReadResult, fresh: boolean): void {
    if (subscriber.state === CLOSED) return;
    let lead: Buffer | undefined;
    if (page.reset !== undefined) {
      lead = Buffer.from(encodeEvent({ event: 'reset', id: page.start, data: JSON.stringify({ reason: page.reset }) }));
    } else if (fresh && page.events.length === 0) {
      lead = Buffer.from(encodeEvent({ id: page.head }));
    }
    const events = page.events.length > 0 ? this.#joinReplay(page.events) : undefined;
    const bytes = lead !== undefined && events !== undefined ? Buffer.concat([lead, events]) : (lead ?? events);
    subscriber.cursor = page.events.at(-1)?.cursor ?? (page.reset !== undefined ? page.start : page.head);
    // Not bounded like live writes: a replay may be larger than the bound, and
    // the caller waits for `drained` before the next page instead.
    if (bytes !== undefined) this.#write(subscriber, bytes, Date.now(), false);
  }

  /**
   * A reconnect storm asks for the same range thousands of times: the last
   * replay's bytes are kept and reused while the range is the same (same
   * first and last event objects, same count: the store's events between
   * them are then the same).
   */
  #joinReplay(events: WallEvent[]): Buffer {
    const first = events[0];
    const last = events.at(-1);
    const memo = this.#lastReplay;
    if (memo !== undefined && memo.first === first && memo.last === last && memo.count === events.length) {
      return memo.bytes;
    }
    const bytes = joinFrames(events);
    this.#lastReplay = { first, last, count: events.length, bytes };
    return bytes;
  }

  /**
   * Resolves once the client has taken the replay written so far down to the
   * bound (or is gone): the next page waits for it rather than piling up.
   */
  async drained(subscriber: Subscriber): Promise<void> {
    const socket = subscriber.socket;
    while (!subscriber.closed && !socket.destroyed && socket.writableLength > this.options.slowClientBytes) {
      await new Promise<void>((resolve) => {
        const done = () => {
          socket.off('drain', done).off('close', done);
          resolve();
        };
        socket.once('drain', done).once('close', done);
      });
    }
  }

  /** Ends the replay: writes what arrived meanwhile, past the replay's end. */
  goLive(subscriber: Subscriber): void {
    if (subscriber.state !== REPLAYING) return;
    const after = this.#after(subscriber, subscriber.pending);
    subscriber.pending = [];
    subscriber.pendingBytes = 0;
    subscriber.state = LIVE;
    subscriber.catchingUp = after.length === 0;
    if (after.length > 0) this.#write(subscriber, joinFrames(after));
  }

  /** The store's live feed: queue now, write once per tick. */
  publish(wall: string, event: WallEvent): void {
    const fanout = this.#walls.get(wall);
    if (fanout === undefined) return;
    if (fanout.queue.length === 0) this.#dirty.push(fanout);
    fanout.queue.push(event);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(this.#flush);
    }
  }

  /** Disconnects a stream now (the client will reconnect and replay). */
  close(subscriber: Subscriber): void {
    if (subscriber.state === CLOSED) return;
    subscriber.socket.destroy();
    this.#remove(subscriber);
  }

  /** Drops every stream; each client reconnects and replays from its cursor. */
  disconnectAll(): void {
    for (const fanout of this.#walls.values()) for (const subscriber of fanout.subscribers) this.close(subscriber);
  }

  /**
   * Graceful end of every stream: a short `retry:` so clients come back soon
   * (to another instance, or to this one restarted), then the end of the
   * response.
   */
  shutdown(retryMs: () => number): void {
    clearInterval(this.#sweep);
    for (const fanout of this.#walls.values()) {
      for (const subscriber of fanout.subscribers) {
        if (subscriber.state !== CLOSED && !subscriber.socket.destroyed) {
          subscriber.socket.write(encodeRetry(retryMs()));
          subscriber.res.end();
        }
      }
    }
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const now = Date.now();
    for (const fanout of this.#dirty) {
      const events = fanout.queue;
      fanout.queue = [];
      let frame: Buffer | undefined;
      for (const subscriber of fanout.subscribers) {
        if (subscriber.state === REPLAYING) {
          this.#hold(subscriber, events);
        } else if (subscriber.catchingUp) {
          const after = this.#after(subscriber, events);
          if (after.length > 0) {
            subscriber.catchingUp = false;
            this.#write(subscriber, joinFrames(after), now);
            this.#deliveries += after.length;
          }
        } else {
          frame ??= joinFrames(events);
          this.#write(subscriber, frame, now);
          this.#deliveries += events.length;
        }
      }
      if (fanout.subscribers.size === 0) this.#walls.delete(fanout.wall);
    }
    this.#dirty.length = 0;
  };

  #hold(subscriber: Subscriber, events: WallEvent[]): void {
    for (const event of events) {
      subscriber.pending.push(event);
      subscriber.pendingBytes += encodeWallEvent(event).length;
    }
    // Same bound and same remedy as a slow socket: the client reconnects and
    // replays from its last event, instead of this process holding its backlog.
    if (subscriber.pendingBytes > this.options.slowClientBytes) this.#evict(subscriber);
  }

  /** The events strictly after what `subscriber` was last sent. */
  #after(subscriber: Subscriber, events: WallEvent[]): WallEvent[] {
    const cursor = subscriber.cursor;
    if (cursor === undefined) return events;
    const compare = this.options.compareCursors;
    return events.filter((event) => compare(event.cursor, cursor) > 0);
  }

  #write(subscriber: Subscriber, bytes: Buffer, now = Date.now(), bounded = true): void {
    const socket = subscriber.socket;
    if (socket.destroyed) return;
    socket.write(bytes);
    subscriber.lastWriteMs = now;
    // Bounded per client: a reader that stopped would otherwise grow this
    // process without limit (res.write never refuses).
    if (bounded && socket.writableLength > this.options.slowClientBytes) this.#evict(subscriber);
  }

  #evict(subscriber: Subscriber): void {
    this.#slowDisconnects++;
    this.close(subscriber);
  }

  #remove(subscriber: Subscriber): void {
    if (subscriber.state === CLOSED) return;
    subscriber.state = CLOSED;
    subscriber.pending = [];
    const fanout = this.#walls.get(subscriber.wall);
    if (fanout === undefined) return;
    fanout.subscribers.delete(subscriber);
    this.#size--;
    if (fanout.subscribers.size === 0 && fanout.queue.length === 0) this.#walls.delete(subscriber.wall);
  }

  /** One sweep for all streams instead of a timer per stream. */
  #heartbeat(): void {
    const now = Date.now();
    const idleSince = now - this.options.heartbeatMs;
    for (const fanout of this.#walls.values()) {
      for (const subscriber of fanout.subscribers) {
        if (subscriber.state !== CLOSED && subscriber.lastWriteMs <= idleSince) this.#write(subscriber, PING, now);
      }
    }
  }
}

function joinFrames(events: WallEvent[]): Buffer {
  if (events.length === 1) return encodeWallEvent(events[0] as WallEvent);
  return Buffer.concat(events.map(encodeWallEvent));
}
