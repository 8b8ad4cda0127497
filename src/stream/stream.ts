/**
 * One open event stream, from its resume point to live: the one owner of
 * its output, its subscriptions (one per wall), where it stands, and the
 * run that gets it live. The route parses the request, runs the checks,
 * writes the head, and awaits `run`; the hub only fans out.
 *
 * The run, wall by wall (Mercure's `subscribe.go` loop is the model):
 *
 *     register ──▶ replay pages ──▶ drain ──▶ go live ──▶ … next wall … ──▶ settle
 *
 * - register: every wall's subscription is with the hub *before* any
 *   replay is read (`open`), so whatever is posted meanwhile is held, and
 *   going live passes on only what comes after the replay (subscription.ts).
 *   No event falls between replay and live; none is sent twice.
 * - replay: the newest `backlog` messages, or everything after the wall's
 *   resume cursor page by page (each written once the client took the one
 *   before, down to the slow-client bound), or a reset and the newest.
 * - settle: when the position moved without an event (a fresh wall with
 *   nothing to replay), an id-only event gives the client the id to resume
 *   from.
 *
 * Every exit: the client goes away (the hub drops the stream on `close`),
 * the server shuts down (`hub.shutdown`), the client is too slow (the hub
 * evicts it), a write fails (the socket closes: as the client going away),
 * or the store fails mid-replay (the stream ends here; the client resumes
 * from its last event).
 */
import type { Logger } from 'pino';
import type { Person } from '../presence/person.js';
import type { PresenceHandle, PresenceTracker } from '../presence/presence-tracker.js';
import { PAGE_BYTES } from '../store/page.js';
import { type MessageStore, type ReadResult, resumeCursor, type WallEvent } from '../store/store.js';
import { encodeEvent, encodeIdOnly, encodeRetry } from './frames.js';
import type { Hub } from './hub.js';
import type { PresenceAsk, PresenceFanout } from './presence-fanout.js';
import type { ReplayMemo } from './replay-memo.js';
import type { StreamFormat } from './stream-format.js';
import type { StreamOutput } from './stream-output.js';
import { StreamPosition } from './stream-position.js';
import type { StreamSlots } from './stream-slots.js';
import { type OpenStream, Subscription } from './subscription.js';

/** Events read per store call while replaying after a Last-Event-ID. */
const REPLAY_PAGE_SIZE = 500;

/** A token's stream is told this long before the token expires (`event: reauth`), and ends when it does. */
export const REAUTH_LEAD_MS = 30_000;

/** `retry:` of a stream ended at its token's expiry: the client comes back at once, with a fresh token. */
const EXPIRED_RETRY_MS = 500;

/** The longest delay a Node timer takes (2^31 - 1 ms, about 24.8 days); a token may live longer. */
const MAX_TIMER_MS = 2_147_483_647;

/** What every stream of a process shares. */
export interface StreamContext {
  hub: Hub;
  /** WALLCAST_MAX_SUBSCRIBERS: a stream holds a slot from its open to its close. */
  slots: StreamSlots;
  presence: PresenceTracker;
  presenceFanout: PresenceFanout;
  store: Pick<MessageStore, 'read' | 'compareCursors'>;
  /** One replay memo for every stream: a reconnect storm encodes a range once. */
  memo: ReplayMemo;
  log: Logger;
  /** A stream resumed from a Last-Event-ID (metrics). */
  onResume?(): void;
  /** A resume cursor could not be resumed (metrics). */
  onReset?(): void;
}

/** A stream as its route asks for it. */
export interface StreamRequest {
  walls: readonly string[];
  /** A stream of several walls (`/api/events?walls=`): its ids name each wall's cursor. */
  several: boolean;
  format: StreamFormat;
  /** The Last-Event-ID to resume from; absent: start fresh. */
  lastEventId: string | undefined;
  /** Messages a fresh wall starts with (and a reset wall). */
  backlog: number;
  /** Who the stream counts as on its walls (issue 17). */
  person: Person;
  /** `event: presence` for each wall: its count, or with the members. */
  presence: PresenceAsk | undefined;
  /** When the stream's token expires (ms since 1970): reauth before, the end then. */
  expiresAtMs: number | undefined;
}

export class Stream implements OpenStream {
  readonly subscriptions: readonly Subscription[];
  readonly position: StreamPosition;
  /**
   * The id the client holds (its Last-Event-ID, then that of the last event
   * written) until the stream settles, the one step that reads it; undefined
   * after, so that live writes do not keep it.
   */
  #written: string | undefined;
  #closed = false;
  /** Its place in each wall's presence, left when it closes. */
  readonly #here: PresenceHandle[];
  readonly #presence: PresenceAsk | undefined;
  /** Walls whose presence events it gets (once each is live). */
  #hearing: string[] | undefined;
  #expiry: NodeJS.Timeout | undefined;

  private constructor(
    private readonly context: StreamContext,
    readonly output: StreamOutput,
    readonly format: StreamFormat,
    request: StreamRequest,
  ) {
    this.position = StreamPosition.resume(request.walls, request.several, request.lastEventId);
    this.#written = request.lastEventId ?? '';
    this.subscriptions = request.walls.map((wall) => new Subscription(wall, this));
    this.#here = request.walls.map((wall) => context.presence.join(wall, request.person));
    this.#presence = request.presence;
  }

  /**
   * Opens a stream on `output` (its head already sent, its slot taken) and
   * registers it with the hub; `run` takes it live.
   */
  static open(context: StreamContext, request: StreamRequest, output: StreamOutput): Stream {
    const stream = new Stream(context, output, request.format, request);
    context.hub.add(stream);
    if (request.expiresAtMs !== undefined) stream.#expireAt(request.expiresAtMs);
    return stream;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Closed (the hub calls it once it dropped the stream): out of presence, its timer stopped. */
  markClosed(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    this.context.slots.give();
    for (const here of this.#here) here.leave();
    if (this.#presence !== undefined) {
      for (const wall of this.#hearing ?? []) this.context.presenceFanout.remove(this, wall, this.#presence);
    }
    clearTimeout(this.#expiry);
    return true;
  }

  compareCursors(a: string, b: string): number {
    return this.context.store.compareCursors(a, b);
  }

  /** Replays every wall and takes it live, then settles; resolves once the stream is live (or closed). */
  async run(backlog: number): Promise<void> {
    try {
      for (const subscription of this.subscriptions) {
        await this.#replay(subscription.wall, backlog);
        await this.output.drained();
        if (this.#closed) return;
        subscription.goLive();
        this.#hear(subscription.wall);
      }
      this.#settle();
    } catch (error) {
      this.context.log.warn(
        { err: error, walls: this.position.walls },
        'stream: replay failed, closing the stream (the client resumes from its cursor)',
      );
      this.close();
    }
  }

  /** Cuts the stream now (the client reconnects and resumes from its position). */
  close(): void {
    this.output.destroy();
    this.context.hub.remove(this);
  }

  /** The client fell behind the slow-client bound. */
  slow(): void {
    this.context.hub.evict(this);
  }

  sendLive(wall: string, events: readonly WallEvent[], frame: Buffer | undefined, nowMs: number): void {
    const bytes =
      frame !== undefined && this.format.hubFrames ? frame : this.format.encode(wall, events, this.position);
    this.position.set(wall, (events.at(-1) as WallEvent).cursor);
    if (this.#written !== undefined) this.#written = this.position.id();
    if (!this.output.write(bytes, nowMs, true)) this.slow();
  }

  /** A wall gone live: its presence events from now on, when the stream asked for them. */
  #hear(wall: string): void {
    if (this.#presence === undefined) return;
    (this.#hearing ??= []).push(wall);
    this.context.presenceFanout.add(this, wall, this.#presence);
  }

  /**
   * A token's stream (issue 16): `event: reauth` REAUTH_LEAD_MS before the
   * token expires (at once when less remains), so the client fetches a
   * fresh one; the stream ends when it expires, and the client resumes from
   * its Last-Event-ID with the fresh token: no gap, no duplicate.
   */
  #expireAt(expiresAtMs: number): void {
    const reauth = () => {
      const data = JSON.stringify({ expiresAt: new Date(expiresAtMs).toISOString() });
      this.output.write(Buffer.from(encodeEvent({ event: 'reauth', data })), Date.now(), false);
      this.#after(expiresAtMs, () => {
        this.output.end(encodeRetry(EXPIRED_RETRY_MS));
        // Out of the hub now, not when the socket closes: no replay page or
        // live event may follow the end to a token that has expired.
        this.context.hub.remove(this);
      });
    };
    this.#after(expiresAtMs - REAUTH_LEAD_MS, reauth);
  }

  /** Runs `then` at `atMs` (ms since 1970), in steps a Node timer can take. */
  #after(atMs: number, then: () => void): void {
    const delayMs = atMs - Date.now();
    if (this.#closed) return;
    if (delayMs <= 0) {
      then();
      return;
    }
    this.#expiry = setTimeout(() => this.#after(atMs, then), Math.min(delayMs, MAX_TIMER_MS));
  }

  /** One wall's replay: the newest messages, or everything after its resume cursor, or a reset and the newest. */
  async #replay(wall: string, backlog: number): Promise<void> {
    const { store } = this.context;
    const after = this.position.resumeFrom(wall);
    if (after === undefined) {
      this.#writeReplay(wall, await store.read(wall, { limit: backlog, maxBytes: PAGE_BYTES }));
      return;
    }
    this.context.onResume?.();
    const limit = Math.max(REPLAY_PAGE_SIZE, backlog);
    let page = await store.read(wall, { after, limit, maxBytes: PAGE_BYTES });
    if (page.reset !== undefined) {
      this.context.onReset?.();
      this.#writeReplay(wall, newest(page, backlog));
      return;
    }
    this.#writeReplay(wall, page);
    while (resumeCursor(page) !== page.head && !this.#closed) {
      await this.output.drained();
      const from = this.position.of(wall) as string;
      page = await store.read(wall, { after: from, limit, maxBytes: PAGE_BYTES });
      this.#writeReplay(wall, page);
    }
  }

  /**
   * Writes one page of replay and moves the wall's position past it (to the
   * head when it has no event). Not bounded like live writes: a replay may
   * be larger than the bound, and the run waits for `drained` instead.
   */
  #writeReplay(wall: string, page: ReadResult): void {
    if (this.#closed) return;
    const parts: Buffer[] = [];
    if (page.reset !== undefined) {
      this.position.set(wall, page.start);
      parts.push(this.format.reset(wall, page.start, page.reset, this.position));
    }
    if (page.events.length > 0) parts.push(this.context.memo.encode(this.format, wall, page.events, this.position));
    this.position.set(wall, page.events.at(-1)?.cursor ?? (page.reset !== undefined ? page.start : page.head));
    if (parts.length === 0) return;
    this.#written = this.position.id();
    this.output.write(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts), Date.now(), false);
  }

  /** An id-only event when the position moved without one, so the client resumes from there. */
  #settle(): void {
    const written = this.#written;
    this.#written = undefined;
    const id = this.position.id();
    if (id === '' || id === written || this.#closed) return;
    this.output.write(encodeIdOnly(id), Date.now(), false);
  }
}

/**
 * A reset replays the newest `backlog` messages, not the whole page read; the
 * reset's `id:` then names the event just before the first one kept.
 */
function newest(page: ReadResult, backlog: number): ReadResult {
  if (page.events.length <= backlog) return page;
  const cut = page.events.length - backlog;
  const start = page.events[cut - 1]?.cursor ?? page.start;
  return { ...page, events: page.events.slice(cut), start };
}
