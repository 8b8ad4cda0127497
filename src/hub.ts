/**
 * Local fan-out: the open event streams of each wall, fed from the store's
 * live feed. An event is encoded once and the same bytes go to every stream.
 *
 * Hot path: `publish` only appends to the wall's log; a `setImmediate` flush
 * then passes over the wall's subscribers and writes each of them, in one
 * Buffer, every event it has not had yet, straight to its socket.
 *
 * A pass writes at most WRITES_PER_TURN sockets per event-loop turn, and a
 * wall's pass spreads over TURNS_PER_PASS turns at least, so a wall of
 * 10,000 streams never holds the loop for the whole fan-out: posts are read
 * and stored in between. Whatever is posted while a pass runs reaches the
 * streams the pass has not reached yet in the same write (a burst costs one
 * write per client per pass instead of one per event), and the ones it
 * already passed in the next pass. Each subscriber counts what it was
 * offered (`delivered`, a sequence number of the wall's log), so no event is
 * written twice or skipped, whatever the passes.
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

/**
 * Socket writes per event-loop turn, over all walls. 250 writes are a few
 * milliseconds of syscalls: short enough that posts and new streams are
 * served between them, long enough that the turns themselves cost nothing.
 */
export const WRITES_PER_TURN = 250;

/**
 * A wall's pass spreads over at least this many turns (in slices of at
 * least MIN_SLICE writes): posts that come in meanwhile join the writes of
 * the rest of the pass, so a burst on a wall of a few hundred streams is
 * joined as well as one on thousands.
 */
const TURNS_PER_PASS = 8;
const MIN_SLICE = 32;

/** Subscribers a pass looks at per turn, written or not (those already up to date cost a comparison). */
const VISITS_PER_TURN = WRITES_PER_TURN * 16;

interface WallFanout {
  readonly wall: string;
  readonly subscribers: Set<Subscriber>;
  /** Recent events in cursor order: `log[0]` has sequence number `base`. */
  log: WallEvent[];
  base: number;
  /** Events published to this wall so far: the sequence number of the next one. */
  published: number;
  /** The pass under way (a Set iterator also visits subscribers added meanwhile, and skips removed ones). */
  pass: Iterator<Subscriber> | undefined;
  /** `published` when the pass under way started: it writes every subscriber up to there at least. */
  passStart: number;
  /** The first event of the pass under way (its lag is sampled when the pass ends). */
  passFrom: number;
  /** Whether the wall is in the hub's dirty list. */
  dirty: boolean;
  /** The events from a sequence number to `published`, with their frames joined, shared by the subscribers that need the same range. */
  tails: Map<number, { events: WallEvent[]; frame: Buffer }>;
  tailsEnd: number;
}

export interface HubStats {
  subscribers: number;
  deliveries: number;
  /** Live writes to streams: several events posted close together go out in one. */
  writes: number;
  slowDisconnects: number;
}

export class Hub {
  readonly #walls = new Map<string, WallFanout>();
  /** Walls with a pass under way or about to start, taken in turn. */
  #dirty: WallFanout[] = [];
  #flushScheduled = false;
  /** Open streams in all walls: kept, not summed, for an O(1) subscriber cap. */
  #size = 0;
  #deliveries = 0;
  #writes = 0;
  #slowDisconnects = 0;
  readonly #replays = new ReplayMemo();
  readonly #subscriberOptions: SubscriberOptions;
  readonly #sweep: NodeJS.Timeout;
  /** Each open stream by its response, for the one `close` listener every stream shares. */
  readonly #streams = new WeakMap<StreamResponse, StreamOut>();
  /**
   * One listener for every stream's `close`, not a closure (and, with
   * `once`, a wrapper) per stream: 200 bytes less of each idle stream.
   */
  readonly #onResponseClose: (this: StreamResponse) => void;

  constructor(readonly options: HubOptions) {
    this.#subscriberOptions = {
      compareCursors: options.compareCursors,
      onSlow: (subscriber) => this.#evict(subscriber),
    };
    const streams = this.#streams;
    const removeStream = (out: StreamOut) => this.#removeStream(out);
    this.#onResponseClose = function (this: StreamResponse) {
      const out = streams.get(this);
      if (out !== undefined) removeStream(out);
    };
    const sweepMs = Math.max(10, Math.floor(options.heartbeatMs / SWEEPS_PER_HEARTBEAT));
    this.#sweep = setInterval(() => this.#heartbeat(), sweepMs);
    this.#sweep.unref();
  }

  get size(): number {
    return this.#size;
  }

  stats(): HubStats {
    return {
      subscribers: this.#size,
      deliveries: this.#deliveries,
      writes: this.#writes,
      slowDisconnects: this.#slowDisconnects,
    };
  }

  /**
   * Starts a stream of `walls` (one subscriber each, one socket), with
   * `format` for anything but the plain one-wall JSON stream: sends its head
   * and `retry:` at once, and registers the subscribers before their replay
   * is read, so that nothing posted in between is missed; live events are
   * held until `goLive`. Undefined when the response cannot stream (no
   * socket of its own).
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
      const fanout = this.#fanout(wall);
      // Live from here: what the wall published before is the replay's to send.
      subscriber.delivered = fanout.published;
      fanout.subscribers.add(subscriber);
      return subscriber;
    });
    this.#size++;
    this.#streams.set(res, out);
    res.on('close', this.#onResponseClose);
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

  /** The store's live feed: logged now, written by the passes. */
  publish(wall: string, event: WallEvent): void {
    const fanout = this.#walls.get(wall);
    if (fanout === undefined) return;
    fanout.log.push(event);
    fanout.published++;
    if (!fanout.dirty) {
      fanout.dirty = true;
      this.#dirty.push(fanout);
    }
    this.#scheduleFlush();
  }

  #fanout(wall: string): WallFanout {
    let fanout = this.#walls.get(wall);
    if (fanout === undefined) {
      fanout = {
        wall,
        subscribers: new Set(),
        log: [],
        base: 0,
        published: 0,
        pass: undefined,
        passStart: 0,
        passFrom: 0,
        dirty: false,
        tails: new Map(),
        tailsEnd: 0,
      };
      this.#walls.set(wall, fanout);
    }
    return fanout;
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(this.#flush);
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

  /**
   * One turn of the passes: walls in turn, each until its pass ends or the
   * turn's budget is spent; a wall whose pass goes on waits behind the
   * others for the next turn.
   */
  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const now = Date.now();
    const budget = { writes: WRITES_PER_TURN, visits: VISITS_PER_TURN };
    const walls = this.#dirty;
    this.#dirty = [];
    let index = 0;
    for (; index < walls.length && budget.writes > 0 && budget.visits > 0; index++) {
      const fanout = walls[index] as WallFanout;
      if (this.#advance(fanout, budget, now)) this.#dirty.push(fanout);
      else this.#settleWall(fanout);
    }
    // Not reached this turn: first in line for the next, before those that just had theirs.
    if (index < walls.length) this.#dirty = walls.slice(index).concat(this.#dirty);
    if (this.#dirty.length > 0) this.#scheduleFlush();
  };

  /** Runs a wall's passes within `budget`; true while there is more to write. */
  #advance(fanout: WallFanout, budget: { writes: number; visits: number }, now: number): boolean {
    let slice = Math.max(MIN_SLICE, Math.ceil(fanout.subscribers.size / TURNS_PER_PASS));
    for (;;) {
      if (fanout.pass === undefined) {
        if (fanout.passStart === fanout.published && fanout.log.length === 0) return false;
        if (fanout.passStart === fanout.published) {
          // Every subscriber has the whole log now.
          fanout.base += fanout.log.length;
          fanout.log = [];
          fanout.tails.clear();
          return false;
        }
        // Everyone has had at least what the last pass started from: older events are not needed.
        this.#trimLog(fanout, fanout.passStart);
        fanout.passFrom = fanout.passStart;
        fanout.passStart = fanout.published;
        fanout.pass = fanout.subscribers.values();
      }
      while (budget.writes > 0 && budget.visits > 0) {
        if (slice <= 0) return true;
        const next = fanout.pass.next();
        if (next.done === true) break;
        budget.visits--;
        const subscriber = next.value;
        if (subscriber.delivered >= fanout.published) continue;
        const { events, frame } = this.#tail(fanout, subscriber.delivered);
        subscriber.delivered = fanout.published;
        const delivered = subscriber.offer(events, frame, now);
        this.#deliveries += delivered;
        if (delivered > 0) this.#writes++;
        budget.writes--;
        slice--;
      }
      if (budget.writes <= 0 || budget.visits <= 0) return true;
      // The pass reached every subscriber.
      fanout.pass = undefined;
      const first = fanout.log[fanout.passFrom - fanout.base];
      if (this.options.observeLag !== undefined && first?.type === 'message') {
        this.options.observeLag(now - Date.parse(first.message.createdAt));
      }
    }
  }

  /** The events from sequence `from` to the newest, and their frames joined: once per range and pass. */
  #tail(fanout: WallFanout, from: number): { events: WallEvent[]; frame: Buffer } {
    if (fanout.tailsEnd !== fanout.published) {
      fanout.tails.clear();
      fanout.tailsEnd = fanout.published;
    }
    let tail = fanout.tails.get(from);
    if (tail === undefined) {
      const events = fanout.log.slice(from - fanout.base);
      tail = { events, frame: joinFrames(events) };
      fanout.tails.set(from, tail);
    }
    return tail;
  }

  #trimLog(fanout: WallFanout, keepFrom: number): void {
    const drop = keepFrom - fanout.base;
    if (drop <= 0) return;
    fanout.log = fanout.log.slice(drop);
    fanout.base = keepFrom;
  }

  /** A wall whose passes are done: out of the dirty list, and gone when nobody follows it. */
  #settleWall(fanout: WallFanout): void {
    fanout.dirty = false;
    if (fanout.subscribers.size === 0 && this.#walls.get(fanout.wall) === fanout) this.#walls.delete(fanout.wall);
  }

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
      if (fanout.subscribers.size === 0 && !fanout.dirty) this.#walls.delete(subscriber.wall);
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
