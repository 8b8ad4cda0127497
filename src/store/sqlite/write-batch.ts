import { type Message, type NewMessage, withCursor } from '../../message.js';
import type { EpochCursors } from '../epoch-cursor.js';
import type { EventCache } from '../event-cache.js';
import {
  BYTES_SLACK,
  eventBytes,
  IDEMPOTENCY_TTL_MS,
  type StoreLimits,
  TRIM_SLACK,
  type WallEvent,
  WallLimitError,
} from '../store.js';
import type { Statements, WallRow } from './schema.js';

/** A write waiting for the next group commit: a post, or a moderation delete. */
export type PendingWrite = { wall: string; reject: (error: unknown) => void } & (
  | { kind: 'message'; draft: NewMessage; idempotencyKey?: string; resolve: (message: Message) => void }
  | { kind: 'delete'; id: string; resolve: (event: WallEvent | undefined) => void }
);

/** What one write of a batch came to, inside the transaction. */
export type Outcome =
  | { kind: 'stored'; event: WallEvent; bytes: number }
  | { kind: 'replayed'; message: Message }
  | { kind: 'refused'; error: Error }
  | { kind: 'none' };

/** What the store knows when a batch starts; it changes only once the batch commits. */
export interface StoreState {
  readonly lastSeq: number;
  readonly wallsWithHistory: number;
  readonly limits: StoreLimits;
}

/** What a batch changes in one wall's row: rows and bytes added (a delete may take bytes away), its newest seq. */
interface WallGrowth {
  rows: number;
  bytes: number;
  lastSeq: number;
}

/**
 * The writes of one group commit, run inside its transaction: one method
 * per kind of write, each saying what it came to; then `finish`, which
 * writes each wall's row once and trims it. If the transaction rolls back,
 * none of it happened (only cache entries were dropped, which costs a
 * re-read).
 */
export class WriteBatch {
  /** The walls this batch changes, with what it changes in each. */
  readonly #grown = new Map<string, WallGrowth>();
  #seq: number;
  #newWalls = 0;

  constructor(
    private readonly statements: Statements,
    private readonly cursors: EpochCursors,
    private readonly cache: EventCache,
    private readonly state: StoreState,
    private readonly nowMs: number,
  ) {
    this.#seq = state.lastSeq;
  }

  write(write: PendingWrite): Outcome {
    return write.kind === 'delete' ? this.#delete(write) : this.#post(write);
  }

  /** The store's new counters, once every write of the batch is in. */
  finish(): { lastSeq: number; newWalls: number } {
    this.statements.saveLastSeq.run(String(this.#seq));
    for (const [wall, growth] of this.#grown) {
      this.statements.grow.run(wall, growth.rows, growth.bytes, growth.lastSeq, this.nowMs);
      this.#trimToBounds(wall);
    }
    return { lastSeq: this.#seq, newWalls: this.#newWalls };
  }

  /** A post: answered with the message first posted with its key, refused past maxWalls, or stored. */
  #post(write: Extract<PendingWrite, { kind: 'message' }>): Outcome {
    const key = write.idempotencyKey;
    const first =
      key === undefined
        ? undefined
        : (this.statements.firstPost.get(write.wall, key, this.nowMs - IDEMPOTENCY_TTL_MS) as
            | { json: string }
            | undefined);
    if (first !== undefined) return { kind: 'replayed', message: JSON.parse(first.json) as Message };
    if (!this.#admits(write.wall)) return { kind: 'refused', error: new WallLimitError(this.state.limits.maxWalls) };
    const seq = ++this.#seq;
    const message = withCursor(write.draft, this.cursors.format(seq));
    const json = JSON.stringify(message);
    const bytes = Buffer.byteLength(json);
    this.statements.insert.run(seq, write.wall, 'message', message.id, json, bytes, this.nowMs, key ?? null);
    this.#grow(write.wall, 1, bytes, seq);
    return { kind: 'stored', event: { type: 'message', cursor: message.cursor, message }, bytes };
  }

  /** A moderation delete: the message row leaves, and a delete row takes its place in the wall's count. */
  #delete(write: Extract<PendingWrite, { kind: 'delete' }>): Outcome {
    const target = this.statements.byId.get(write.wall, write.id) as { seq: number; bytes: number } | undefined;
    if (target === undefined) return { kind: 'none' };
    const seq = ++this.#seq;
    const event: WallEvent = { type: 'delete', cursor: this.cursors.format(seq), id: write.id };
    const bytes = eventBytes(event);
    this.statements.remove.run(target.seq);
    this.cache.delete(target.seq);
    this.statements.insert.run(
      seq,
      write.wall,
      'delete',
      write.id,
      JSON.stringify({ id: write.id }),
      bytes,
      this.nowMs,
      null,
    );
    this.#grow(write.wall, 0, bytes - target.bytes, seq);
    return { kind: 'stored', event, bytes };
  }

  /** Whether `wall` may take a post: it has history (or this batch gave it some), or the store has room for a wall. */
  #admits(wall: string): boolean {
    if (this.#grown.has(wall)) return true;
    const row = this.statements.wall.get(wall) as WallRow | undefined;
    if (row !== undefined && row.rows > 0) return true;
    if (this.state.wallsWithHistory + this.#newWalls >= this.state.limits.maxWalls) return false;
    this.#newWalls++;
    return true;
  }

  #grow(wall: string, rows: number, bytes: number, seq: number): void {
    const growth = this.#grown.get(wall) ?? { rows: 0, bytes: 0, lastSeq: seq };
    growth.rows += rows;
    growth.bytes += bytes;
    growth.lastSeq = seq;
    this.#grown.set(wall, growth);
  }

  /** Deletes a wall's oldest rows once it is past a bound (by a slack), down to both bounds. */
  #trimToBounds(wall: string): void {
    const { historySize, historyBytes } = this.state.limits;
    const row = this.statements.wall.get(wall) as WallRow;
    if (row.rows <= historySize + TRIM_SLACK && row.bytes <= historyBytes * (1 + BYTES_SLACK)) return;
    const excessRows = row.rows - historySize;
    const excessBytes = row.bytes - historyBytes;
    let rows = 0;
    let bytes = 0;
    let cut = 0;
    // Oldest first; the newest row always stays.
    for (const old of this.statements.oldest.iterate(wall) as Iterable<{ seq: number; bytes: number }>) {
      if ((rows >= excessRows && bytes >= excessBytes) || rows === row.rows - 1) break;
      rows++;
      bytes += old.bytes;
      cut = old.seq;
      this.cache.delete(old.seq);
    }
    if (rows === 0) return;
    this.statements.trim.run(wall, cut);
    this.statements.saveTrim.run(rows, bytes, cut, wall);
  }
}

/** Answers one write of a committed batch with what it came to. */
export function settle(write: PendingWrite, outcome: Outcome): void {
  if (outcome.kind === 'refused') write.reject(outcome.error);
  else if (write.kind === 'delete') write.resolve(outcome.kind === 'stored' ? outcome.event : undefined);
  else if (outcome.kind === 'replayed') write.resolve(outcome.message);
  else if (outcome.kind === 'stored' && outcome.event.type === 'message') write.resolve(outcome.event.message);
}
