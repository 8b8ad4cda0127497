/**
 * The primary's side of its workers: it answers their store calls and sends
 * each of them every event, one message per batch (the events of one turn
 * of the primary's loop), with the JSON of the batch made once for all.
 *
 * Bounded: a worker acknowledges each batch once its hub has it. A worker
 * that stops reading (SIGSTOP, a stuck loop) holds up at most
 * MAX_UNACKED_BYTES in this process: past it, its batches are dropped, and
 * once it has caught up on what it was sent it is told `feed-lost`, so its
 * streams restart and their clients replay exactly from their positions.
 */
import type { Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { type MessageStore, StoreUnavailableError, type WallEvent, WallLimitError } from '../store/store.js';
import { type CallFailure, isOurs, type StoreOp, type ToPrimary, type ToWorker } from './protocol.js';

/**
 * Bytes of batches sent to one worker and not yet acknowledged. A worker
 * keeps up with far more than this between acknowledgements; one that falls
 * this far behind is not reading at all.
 */
const MAX_UNACKED_BYTES = 32 * 1024 * 1024;

const STORE_OPS: ReadonlySet<string> = new Set<StoreOp>([
  'append',
  'read',
  'readBefore',
  'listWalls',
  'delete',
  'get',
  'findPost',
  'isReady',
]);

interface Feed {
  readonly worker: Worker;
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
    /** The text of a scrape of every worker's metrics (prom-client's aggregator). */
    private readonly metrics: () => Promise<string>,
    private readonly log: Logger,
  ) {
    store.onEvent((wall, event) => {
      this.#batch.push([wall, event]);
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(this.#flush);
      }
    });
    store.onFeedLost?.(() => {
      for (const feed of this.#feeds.values()) send(feed.worker, { wc: 'feed-lost' });
    });
  }

  /** Starts serving a worker: its calls, and every event from now on. */
  attach(worker: Worker): void {
    const feed: Feed = { worker, unacked: new Map(), unackedBytes: 0, lost: false };
    this.#feeds.set(worker, feed);
    worker.on('message', (message: unknown) => {
      if (!isOurs(message)) return;
      const ours = message as ToPrimary;
      if (ours.wc === 'call') this.#call(worker, ours.id, ours.op, ours.args);
      else if (ours.wc === 'ack') this.#ack(feed, ours.seq);
    });
    worker.once('exit', () => this.#feeds.delete(worker));
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
      if (feed.unackedBytes + json.length > MAX_UNACKED_BYTES) {
        feed.lost = true;
        this.log.warn(
          { worker: feed.worker.id, unackedBytes: feed.unackedBytes },
          'a worker stopped taking events: its streams restart once it reads again',
        );
        continue;
      }
      feed.unacked.set(seq, json.length);
      feed.unackedBytes += json.length;
      send(feed.worker, { wc: 'events', seq, json });
    }
  };

  #ack(feed: Feed, seq: number): void {
    const bytes = feed.unacked.get(seq);
    if (bytes === undefined) return;
    feed.unacked.delete(seq);
    feed.unackedBytes -= bytes;
    if (feed.lost && feed.unacked.size === 0) {
      feed.lost = false;
      send(feed.worker, { wc: 'feed-lost' });
    }
  }

  async #call(worker: Worker, id: number, op: StoreOp, args: unknown[]): Promise<void> {
    if (op !== 'metrics' && !STORE_OPS.has(op)) {
      send(worker, { wc: 'failure', id, failure: { kind: 'error', message: `no operation ${op}` } });
      return;
    }
    try {
      const value =
        op === 'metrics'
          ? await this.metrics()
          : await (this.store[op] as (...args: unknown[]) => Promise<unknown>).apply(this.store, args);
      send(worker, { wc: 'result', id, value });
    } catch (error) {
      send(worker, { wc: 'failure', id, failure: failureOf(error) });
      if (!(error instanceof StoreUnavailableError || error instanceof WallLimitError)) {
        this.log.error({ err: error, op }, 'store call from a worker failed unexpectedly');
      }
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

/** Sends to a worker that may have gone meanwhile (its exit is handled where it is forked). */
function send(worker: Worker, message: ToWorker): void {
  if (!worker.isConnected()) return;
  worker.send(message, undefined, () => {});
}
