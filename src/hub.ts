/**
 * Local fan-out: the open event streams of each wall, fed from the store's
 * live feed. An event is encoded once and the same bytes go to every stream.
 *
 * Hot path: `publish` only queues; one `setImmediate` flush per tick joins
 * everything queued for a wall into one Buffer and hands it to each of the
 * wall's subscribers, which write it straight to their socket: a burst of
 * posts costs one write per client per tick instead of one per event.
 *
 * Why the socket and not `ServerResponse.write`: the stream is sent without
 * chunked encoding (see `writeStreamHead`), so the body bytes on the socket
 * are exactly the event stream. `res.write` would cork the socket and
 * schedule an uncork per client per event; a plain `socket.write` is one
 * syscall.
 */
import { encodeRetry, joinFrames, ReplayMemo, type StreamFormat, type StreamResponse, writeStreamHead } from './sse.js';
import type { ReadResult, WallEvent } from './store/store.js';
import { StreamOut, Subscriber, type SubscriberOptions } from './subscriber.js';

export interface HubOptions {
  /** Idle time after which a stream gets a `: ping` comment. Default 15 000. */
  heartbeatMs: number;
  /** Bytes queued for one client before it is disconnected. Default 1 MiB. */
  slowClientBytes: number;
  /** The store's cursor order, to drop replayed events from the live feed. */
  compareCursors: (a: string, b: string) => number;
  /** Sampled once per wall and flush: milliseconds from the first message's post to its write. */
  observeLag?: (lagMs: number) => void;
  /** Each slow client evicted, with its wall (for the log, which sums them up). */
  onEvict?: (wall: string) => void;
}

/** The heartbeat sweep runs this many times per heartbeat interval. */
const SWEEPS_PER_HEARTBEAT = 4;

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
  /** Open streams in all walls: kept, not summed, for an O(1) subscriber cap. */
  #size = 0;
  #deliveries = 0;
  #slowDisconnects = 0;
  readonly #replays = new ReplayMemo();
  readonly #subscriberOptions: SubscriberOptions;
  readonly #sweep: NodeJS.Timeout;

  constructor(readonly options: HubOptions) {
    this.#subscriberOptions = {
      compareCursors: options.compareCursors,
      onSlow: (subscriber) => this.#evict(subscriber),
    };
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
   * Starts a stream of one wall: sends its head and `retry:` at once, and
   * registers the subscriber before its replay is read, so that nothing
   * posted in between is missed; live events are held until `goLive`.
   * Undefined when the response cannot stream (no socket of its own).
   */
  open(wall: string, res: StreamResponse, retryMs: number, headers?: Headers): Subscriber | undefined {
    return this.openStream([wall], res, retryMs, headers)?.[0];
  }

  /**
   * Starts a stream of `walls` (one subscriber each, one socket), with
   * `format` for anything but the plain one-wall JSON stream.
   */
  openStream(
    walls: readonly string[],
    res: StreamResponse,
    retryMs: number,
    headers?: Headers,
    format?: StreamFormat,
  ): Subscriber[] | undefined {
    const socket = writeStreamHead(res, retryMs, headers);
    if (socket === undefined) return undefined;
    const out = new StreamOut(res, socket, this.options.slowClientBytes);
    out.subscribers = walls.map((wall) => {
      const subscriber = new Subscriber(wall, out, this.#subscriberOptions, format);
      let fanout = this.#walls.get(wall);
      if (fanout === undefined) {
        fanout = { wall, subscribers: new Set(), queue: [] };
        this.#walls.set(wall, fanout);
      }
      fanout.subscribers.add(subscriber);
      return subscriber;
    });
    this.#size++;
    res.once('close', () => this.#removeStream(out));
    return out.subscribers;
  }

  /** Writes one page of replay; `fresh`: no position was asked for, or it was reset. */
  replay(subscriber: Subscriber, page: ReadResult, fresh: boolean): void {
    const cursor = page.events.at(-1)?.cursor ?? (page.reset !== undefined ? page.start : page.head);
    subscriber.writeReplay(this.#replayBytes(subscriber, page, fresh, cursor), cursor);
  }

  /** A plain stream's page comes from the memo every such stream shares; another format encodes its own. */
  #replayBytes(subscriber: Subscriber, page: ReadResult, fresh: boolean, cursor: string): Buffer | undefined {
    const format = subscriber.format;
    if (format === undefined) return this.#replays.encode(page, fresh);
    const reset = page.reset === undefined ? undefined : format.reset(subscriber.wall, page.start, page.reset);
    const events = page.events.length > 0 ? format.encode(subscriber.wall, page.events) : undefined;
    if (reset === undefined && events === undefined) format.moveTo(subscriber.wall, cursor);
    return reset && events ? Buffer.concat([reset, events]) : (reset ?? events);
  }

  /**
   * Ends the replay of a stream with its own format: an id-only event with
   * its position, when a wall's position moved without an event (a fresh
   * wall with nothing to replay), so the client resumes from there.
   */
  settle(subscriber: Subscriber): void {
    const position = subscriber.format?.position();
    if (position !== undefined) subscriber.out.write(position, Date.now(), false);
  }

  /** Resolves once the client took the replay written so far down to the bound (or is gone). */
  drained(subscriber: Subscriber): Promise<void> {
    return subscriber.out.drained();
  }

  /** Ends the replay: what was held meanwhile and comes after it is written, then live. */
  goLive(subscriber: Subscriber): void {
    subscriber.goLive();
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
    if (subscriber.closed) return;
    subscriber.destroy();
    this.#removeStream(subscriber.out);
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
      for (const subscriber of fanout.subscribers) subscriber.end(encodeRetry(retryMs()));
    }
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const now = Date.now();
    for (const fanout of this.#dirty) {
      const events = fanout.queue;
      fanout.queue = [];
      const frame = joinFrames(events);
      for (const subscriber of fanout.subscribers) this.#deliveries += subscriber.offer(events, frame, now);
      const first = events[0];
      if (this.options.observeLag !== undefined && first?.type === 'message') {
        this.options.observeLag(now - Date.parse(first.message.createdAt));
      }
      if (fanout.subscribers.size === 0) this.#walls.delete(fanout.wall);
    }
    this.#dirty.length = 0;
  };

  #evict(subscriber: Subscriber): void {
    if (subscriber.closed) return;
    this.#slowDisconnects++;
    this.options.onEvict?.(subscriber.wall);
    this.close(subscriber);
  }

  /** The walls with the most open streams, most first (for bounded per-wall metrics). */
  busiestWalls(count: number): [wall: string, streams: number][] {
    return [...this.#walls.values()]
      .map((fanout): [string, number] => [fanout.wall, fanout.subscribers.size])
      .sort((a, b) => b[1] - a[1])
      .slice(0, count);
  }

  /** Drops every subscriber of a stream from its wall: one stream, however many walls, counted once. */
  #removeStream(out: StreamOut): void {
    let removed = false;
    for (const subscriber of out.subscribers) {
      if (!subscriber.markClosed()) continue;
      removed = true;
      const fanout = this.#walls.get(subscriber.wall);
      if (fanout === undefined) continue;
      fanout.subscribers.delete(subscriber);
      if (fanout.subscribers.size === 0 && fanout.queue.length === 0) this.#walls.delete(subscriber.wall);
    }
    if (removed) this.#size--;
  }

  /** One sweep for all streams instead of a timer per stream. */
  #heartbeat(): void {
    const now = Date.now();
    const idleSince = now - this.options.heartbeatMs;
    for (const fanout of this.#walls.values()) {
      for (const subscriber of fanout.subscribers) subscriber.heartbeat(now, idleSince);
    }
  }
}
