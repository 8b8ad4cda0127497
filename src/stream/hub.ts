/**
 * Local fan-out: the open event streams of each wall, fed from the store's
 * live feed. An event is encoded once and the same bytes go to every stream.
 *
 * The hub does fan-out only: it keeps walls → subscriptions and writes
 * events; how a stream gets from its resume point to live is the stream's
 * own (stream.ts). The hub also keeps the open streams alive (one heartbeat
 * sweep for all), evicts the slow ones and ends them all at shutdown.
 *
 * Hot path: `publish` only appends to the wall's log; a `setImmediate` flush
 * then passes over the wall's subscriptions and writes each of them, in one
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
 */

import type { WallEvent } from '../store/store.js';
import { encodeRetry, joinFrames, PING } from './frames.js';
import { owedPresence, PRESENCE_JOIN_MS, type PresenceNews, type WallPresenceNews } from './presence-news.js';
import type { StreamResponse } from './stream-output.js';
import type { OpenStream, Subscription } from './subscription.js';

export interface HubOptions {
  /** Idle time after which a stream gets a `: ping` comment. Default 15 000. */
  heartbeatMs: number;
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
  readonly subscribers: Set<Subscription>;
  /** Recent events in cursor order: `log[0]` has sequence number `base`. */
  log: WallEvent[];
  base: number;
  /** Events published to this wall so far: the sequence number of the next one. */
  published: number;
  /** The pass under way (a Set iterator also visits subscribers added meanwhile, and skips removed ones). */
  pass: Iterator<Subscription> | undefined;
  /** `published` when the pass under way started: it writes every subscriber up to there at least. */
  passStart: number;
  /** The first event of the pass under way (its lag is sampled when the pass ends). */
  passFrom: number;
  /** Whether the wall is in the hub's dirty list. */
  dirty: boolean;
  /** The events from a sequence number to `published`, with their frames joined, shared by the subscribers that need the same range. */
  tails: Map<number, { events: WallEvent[]; frame: Buffer }>;
  tailsEnd: number;
  /** The newest presence snapshot of each kind, for the subscriptions that asked (presence-fanout.ts). */
  presence: WallPresenceNews | undefined;
  /** Presence news came, and no pass has started since: one starts when the timer fires. */
  presenceTimer: NodeJS.Timeout | undefined;
  /** The timer fired: the next pass runs even without events, for the presence news. */
  presenceDue: boolean;
}

export interface HubStats {
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
  /** Open streams in all walls (`size`, the metrics' gauge): kept, not summed over walls. */
  #size = 0;
  #deliveries = 0;
  #writes = 0;
  #slowDisconnects = 0;
  readonly #sweep: NodeJS.Timeout;
  /** Each open stream by its response, for the one `close` listener every stream shares. */
  readonly #streams = new WeakMap<StreamResponse, OpenStream>();
  /**
   * One listener for every stream's `close`, not a closure (and, with
   * `once`, a wrapper) per stream: 200 bytes less of each idle stream.
   */
  readonly #onResponseClose: (this: StreamResponse) => void;

  constructor(readonly options: HubOptions) {
    const streams = this.#streams;
    const remove = (stream: OpenStream) => this.remove(stream);
    this.#onResponseClose = function (this: StreamResponse) {
      const stream = streams.get(this);
      if (stream !== undefined) remove(stream);
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
      deliveries: this.#deliveries,
      writes: this.#writes,
      slowDisconnects: this.#slowDisconnects,
    };
  }

  /**
   * Registers an open stream's subscriptions with their walls, live from
   * here: what a wall published before is the stream's replay to send.
   * Streams register before their replay is read (subscription.ts).
   */
  add(stream: OpenStream): void {
    for (const subscription of stream.subscriptions) {
      const fanout = this.#fanout(subscription.wall);
      subscription.delivered = fanout.published;
      fanout.subscribers.add(subscription);
    }
    this.#size++;
    this.#streams.set(stream.output.res, stream);
    stream.output.res.on('close', this.#onResponseClose);
  }

  /** Drops a stream from its walls (its client left, or it was closed): one stream, however many walls, counted once. */
  remove(stream: OpenStream): void {
    if (!stream.markClosed()) return;
    for (const subscription of stream.subscriptions) {
      const fanout = this.#walls.get(subscription.wall);
      if (fanout === undefined) continue;
      fanout.subscribers.delete(subscription);
      if (fanout.subscribers.size === 0 && !fanout.dirty) this.#walls.delete(subscription.wall);
    }
    this.#size--;
  }

  /** A client past the slow-client bound: cut (it reconnects and replays from its position). */
  evict(stream: OpenStream): void {
    if (stream.closed) return;
    this.#slowDisconnects++;
    this.options.onEvict?.(stream.subscriptions[0]?.wall ?? '');
    stream.output.destroy();
    this.remove(stream);
  }

  /** The store's live feed: logged now, written by the passes. */
  publish(wall: string, event: WallEvent): void {
    const fanout = this.#walls.get(wall);
    if (fanout === undefined) return;
    fanout.log.push(event);
    fanout.published++;
    this.#markDirty(fanout);
  }

  /** The wall has something to write: in the dirty list (once), and a flush on its way. */
  #markDirty(fanout: WallFanout): void {
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
        presence: undefined,
        presenceTimer: undefined,
        presenceDue: false,
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

  /** Cuts every stream; each client reconnects and replays from its position. */
  disconnectAll(): void {
    for (const fanout of this.#walls.values()) {
      for (const subscription of fanout.subscribers) {
        subscription.stream.output.destroy();
        this.remove(subscription.stream);
      }
    }
  }

  /**
   * Graceful end of every stream: a short `retry:` so clients come back soon
   * (to another instance, or to this one restarted), then the end of the
   * response.
   */
  shutdown(retryMs: () => number): void {
    clearInterval(this.#sweep);
    for (const fanout of this.#walls.values()) {
      for (const subscription of fanout.subscribers) subscription.stream.output.end(encodeRetry(retryMs()));
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
        const presencePass = fanout.presenceDue;
        if (fanout.passStart === fanout.published && fanout.log.length === 0 && !presencePass) return false;
        if (fanout.passStart === fanout.published && !presencePass) {
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
        // This pass visits every subscription: it takes the presence news along.
        clearTimeout(fanout.presenceTimer);
        fanout.presenceTimer = undefined;
        fanout.presenceDue = false;
      }
      while (budget.writes > 0 && budget.visits > 0) {
        if (slice <= 0) return true;
        const next = fanout.pass.next();
        if (next.done === true) break;
        budget.visits--;
        const subscription = next.value;
        const news = owedPresence(fanout.presence, subscription);
        if (subscription.delivered >= fanout.published && news === undefined) continue;
        // Events and presence in one syscall (a corked socket's writes go out as one writev).
        if (news !== undefined) subscription.stream.output.socket.cork();
        if (subscription.delivered < fanout.published) {
          const { events, frame } = this.#tail(fanout, subscription.delivered);
          subscription.delivered = fanout.published;
          const delivered = subscription.offer(events, frame, now);
          this.#deliveries += delivered;
          if (delivered > 0) this.#writes++;
        }
        if (news !== undefined) this.#tellPresence(subscription, news, now);
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

  /**
   * A wall's newest presence snapshot for the subscriptions that asked for
   * `ask` (presence-fanout.ts): it goes with their next write of events, or
   * in a pass of its own after PRESENCE_JOIN_MS.
   */
  presence(wall: string, ask: keyof WallPresenceNews, news: PresenceNews): void {
    const fanout = this.#walls.get(wall);
    if (fanout === undefined) return;
    (fanout.presence ??= {})[ask] = news;
    // A pass under way may have passed some subscriptions already: the timer covers them too.
    if (fanout.presenceTimer !== undefined) return;
    fanout.presenceTimer = setTimeout(() => {
      fanout.presenceTimer = undefined;
      fanout.presenceDue = true;
      this.#markDirty(fanout);
    }, PRESENCE_JOIN_MS).unref();
  }

  #tellPresence(subscription: Subscription, news: PresenceNews, nowMs: number): void {
    const stream = subscription.stream;
    subscription.presenceSent = news.snapshot;
    if (!stream.closed && !stream.output.write(news.frame, nowMs, true)) stream.slow();
    stream.output.socket.uncork();
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

  /** The walls with the most open streams, most first (for bounded per-wall metrics). */
  busiestWalls(count: number): [wall: string, streams: number][] {
    return [...this.#walls.values()]
      .map((fanout): [string, number] => [fanout.wall, fanout.subscribers.size])
      .sort((a, b) => b[1] - a[1])
      .slice(0, count);
  }

  /** One sweep for all streams instead of a timer per stream. */
  #heartbeat(): void {
    const now = Date.now();
    const idleSince = now - this.options.heartbeatMs;
    for (const fanout of this.#walls.values()) {
      for (const subscription of fanout.subscribers) {
        const stream = subscription.stream;
        // A `: ping` when the stream wrote nothing since `idleSince`, so proxies and clients see traffic.
        if (stream.output.lastWriteMs <= idleSince && !stream.output.write(PING, now, true)) stream.slow();
      }
    }
  }
}
