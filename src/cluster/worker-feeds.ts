/**
 * The primary's side of its workers: it answers their store calls and sends
 * each of them every event, one message per batch (the events of one turn
 * of the primary's loop), with the JSON of the batch made once for all.
 *
 * Bounded: a worker acknowledges each batch once its hub has it. A worker
 * that stops reading (SIGSTOP, a stuck loop) holds up at most
 * WALLCAST_WORKER_QUEUE_BYTES (32 MiB) in this process: past it, its batches
 * are dropped, and once it has caught up on what it was sent it is told
 * `feed-lost`, so its streams restart and their clients replay exactly
 * from their positions. A worker keeps up with far more than that between
 * acknowledgements; one that falls that far behind is not reading at all.
 */
import type { Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { TicketBook, TicketRecord } from '../auth/tickets.js';
import type { PresenceNeed } from '../presence/presence-share.js';
import { type MessageStore, StoreUnavailableError, type WallEvent, WallLimitError } from '../store/store.js';
import type { MachinePresence } from './machine-presence.js';
import { type CallFailure, isOurs, type Op, STORE_OPS, sendToWorker, type ToPrimary } from './protocol.js';

const STORE_OP_NAMES: ReadonlySet<string> = new Set(STORE_OPS);

interface Feed {
  readonly worker: Worker;
  /** Stream slots this worker holds (WALLCAST_MAX_SUBSCRIBERS). */
  slots: number;
  /** Bytes of each batch sent and not yet acknowledged, by seq. */
  readonly unacked: Map<number, number>;
  unackedBytes: number;
  /** Batches are being dropped for this worker; it gets `feed-lost` once it caught up. */
  lost: boolean;
}

export class WorkerFeeds {
  readonly #feeds = new Map<Worker, Feed>();
  #batch: [string, WallEvent][] = [];
  #seq = 0;
  #flushScheduled = false;

  constructor(
    private readonly store: MessageStore,
    private readonly machine: {
      /** The text of a scrape of every worker's metrics (prom-client's aggregator). */
      metrics: () => Promise<string>;
      /** The machine's tickets; undefined on Redis, where workers keep them there. */
      tickets: TicketBook | undefined;
      /** The machine's presence; undefined on Redis, likewise. */
      presence: MachinePresence | undefined;
      /** WALLCAST_MAX_SUBSCRIBERS, counted here for the whole machine. */
      maxSubscribers: number | undefined;
    },
    private readonly log: Logger,
    /** Bytes of batches sent to one worker and not yet acknowledged (WALLCAST_WORKER_QUEUE_BYTES). */
    private readonly maxUnackedBytes: number,
  ) {
    store.onEvent((wall, event) => {
      this.#batch.push([wall, event]);
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(this.#flush);
      }
    });
    store.onFeedLost?.(() => {
      for (const feed of this.#feeds.values()) sendToWorker(feed.worker, { wc: 'feed-lost' });
    });
  }

  /** Starts serving a worker: its calls, and every event from now on. */
  attach(worker: Worker): void {
    const feed: Feed = { worker, slots: 0, unacked: new Map(), unackedBytes: 0, lost: false };
    this.#feeds.set(worker, feed);
    worker.on('message', (message: unknown) => {
      if (!isOurs(message)) return;
      const ours = message as ToPrimary;
      if (ours.wc === 'call') this.#call(feed, ours.id, ours.op, ours.args);
      else if (ours.wc === 'ack') this.#ack(feed, ours.seq);
      else if (ours.wc === 'slot-give') feed.slots--;
      else if (ours.wc === 'presence') this.machine.presence?.apply(worker, ours.ops);
    });
    worker.once('exit', () => {
      this.#feeds.delete(worker);
      this.machine.presence?.forget(worker);
    });
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const batch = this.#batch;
    this.#batch = [];
    if (batch.length === 0 || this.#feeds.size === 0) return;
    const seq = ++this.#seq;
    const json = JSON.stringify(batch);
    for (const feed of this.#feeds.values()) {
      if (feed.lost) continue;
      if (feed.unackedBytes + json.length > this.maxUnackedBytes) {
        feed.lost = true;
        this.log.warn(
          { worker: feed.worker.id, unackedBytes: feed.unackedBytes },
          'a worker stopped taking events: its streams restart once it reads again',
        );
        continue;
      }
      feed.unacked.set(seq, json.length);
      feed.unackedBytes += json.length;
      sendToWorker(feed.worker, { wc: 'events', seq, json });
    }
  };

  /** A stream slot for `feed`'s worker, while the machine holds fewer streams than WALLCAST_MAX_SUBSCRIBERS. */
  #takeSlot(feed: Feed): boolean {
    const max = this.machine.maxSubscribers;
    if (max !== undefined) {
      let taken = 0;
      for (const each of this.#feeds.values()) taken += each.slots;
      if (taken >= max) return false;
    }
    feed.slots++;
    return true;
  }

  #ack(feed: Feed, seq: number): void {
    const bytes = feed.unacked.get(seq);
    if (bytes === undefined) return;
    feed.unacked.delete(seq);
    feed.unackedBytes -= bytes;
    if (feed.lost && feed.unacked.size === 0) {
      feed.lost = false;
      sendToWorker(feed.worker, { wc: 'feed-lost' });
    }
  }

  async #call(feed: Feed, id: number, op: Op, args: unknown[]): Promise<void> {
    const worker = feed.worker;
    try {
      sendToWorker(worker, { wc: 'result', id, value: await this.#answer(feed, op, args) });
    } catch (error) {
      sendToWorker(worker, { wc: 'failure', id, failure: failureOf(error) });
      if (!(error instanceof StoreUnavailableError || error instanceof WallLimitError)) {
        this.log.error({ err: error, op }, 'a call from a worker failed unexpectedly');
      }
    }
  }

  #answer(feed: Feed, op: Op, args: unknown[]): Promise<unknown> | unknown {
    if (STORE_OP_NAMES.has(op)) {
      const call = this.store[op as (typeof STORE_OPS)[number]] as (...args: unknown[]) => Promise<unknown>;
      return call.apply(this.store, args);
    }
    const { tickets, presence } = this.machine;
    switch (op) {
      case 'metrics':
        return this.machine.metrics();
      case 'ticketPut':
        return tickets?.put(args[0] as string, args[1] as TicketRecord);
      case 'ticketTake':
        return tickets?.take(args[0] as string);
      case 'slotTake':
        return this.#takeSlot(feed);
      case 'presenceRead':
        return presence?.read(args[0] as string, args[1] as PresenceNeed) ?? { online: 0 };
      default:
        throw new Error(`no operation ${String(op)}`);
    }
  }
}

function failureOf(error: unknown): CallFailure {
  if (error instanceof StoreUnavailableError) {
    const { message, retryAfterSeconds, uncertain } = error;
    return { kind: 'unavailable', message, retryAfterSeconds, uncertain };
  }
  if (error instanceof WallLimitError) return { kind: 'wall-limit', maxWalls: error.maxWalls };
  return { kind: 'error', message: error instanceof Error ? error.message : String(error) };
}
