/**
 * What the primary and its workers say to each other over the cluster's IPC
 * channel (node:cluster, with `serialization: 'advanced'`). Every message of
 * ours carries `wc`; the channel also carries prom-client's and
 * rate-limiter-flexible's own, which each side leaves to them.
 *
 * The primary owns the store and is the only sequencer; a worker reaches the
 * store with calls (answered in order, on the same FIFO channel as events),
 * and hears every event in batches: one message per batch per worker, not
 * per subscriber.
 */
import type { Worker } from 'node:cluster';
import type { TicketRecord } from '../auth/tickets.js';
import type { Member } from '../presence/person.js';
import type { PresenceNeed, SharedView } from '../presence/presence-share.js';
import type { AppendOptions, ReadBeforeQuery, ReadQuery, WallListQuery } from '../store/store.js';

/**
 * What a worker may call the primary for, with the arguments: the store's
 * operations, a scrape of every worker's metrics, the machine's tickets and
 * a wall's presence read now.
 */
export interface Calls {
  append: [message: unknown, options?: AppendOptions];
  read: [wall: string, query: ReadQuery];
  readBefore: [wall: string, query: ReadBeforeQuery];
  listWalls: [query: WallListQuery];
  delete: [wall: string, id: string];
  get: [wall: string, id: string];
  findPost: [wall: string, idempotencyKey: string];
  isReady: [];
  metrics: [];
  ticketPut: [id: string, record: TicketRecord];
  ticketTake: [id: string];
  presenceRead: [wall: string, need: PresenceNeed];
  slotTake: [];
}

export type Op = keyof Calls;

/** The store's own operations among the calls. */
export const STORE_OPS = ['append', 'read', 'readBefore', 'listWalls', 'delete', 'get', 'findPost', 'isReady'] as const;

/** What a worker's presence did since its last batch, in order (presence/presence-share.ts). */
export type PresenceOp =
  | [op: 'hold', wall: string, key: string, member: Member | null]
  | [op: 'release', wall: string, key: string]
  | [op: 'follow', wall: string, need: PresenceNeed | null];

/** A store failure as it crosses the channel (errors themselves do not). */
export type CallFailure =
  | { kind: 'unavailable'; message: string; retryAfterSeconds: number; uncertain: boolean }
  | { kind: 'wall-limit'; maxWalls: number }
  | { kind: 'error'; message: string };

export type ToWorker =
  /** Events of every wall since the last batch, in commit order: the JSON of `[wall, event][]`. */
  | { wc: 'events'; seq: number; json: string }
  /** Events this worker should have had were dropped (it fell behind the bound): restart every stream. */
  | { wc: 'feed-lost' }
  | { wc: 'result'; id: number; value: unknown }
  | { wc: 'failure'; id: number; failure: CallFailure }
  /** The view of a wall the worker follows (presence), whenever it changes. */
  | { wc: 'presence-view'; wall: string; need: PresenceNeed; view: SharedView }
  /** The machine is shutting down: drain and exit. */
  | { wc: 'drain' };

export type ToPrimary =
  | { wc: 'call'; id: number; op: Op; args: unknown[] }
  /** A stream slot given back (WALLCAST_MAX_SUBSCRIBERS). */
  | { wc: 'slot-give' }
  /** Presence changes of one turn of the worker's loop. */
  | { wc: 'presence'; ops: PresenceOp[] }
  /** The batch `seq` was handed to the hub: the primary may send more. */
  | { wc: 'ack'; seq: number }
  /** Listening at `url`. */
  | { wc: 'serving'; url: string; metricsUrl?: string };

export function isOurs(message: unknown): message is { wc: string } {
  return typeof message === 'object' && message !== null && typeof (message as { wc?: unknown }).wc === 'string';
}

/** Sends to a worker that may have gone meanwhile (its exit is handled where it is forked). */
export function sendToWorker(worker: Worker, message: ToWorker): void {
  if (worker.isConnected()) worker.send(message, undefined, () => {});
}
