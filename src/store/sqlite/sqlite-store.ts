import type Database from 'better-sqlite3';
import { type Message, type NewMessage, storedMessage } from '../../message.js';
import { EpochCursors } from '../epoch-cursor.js';
import { EventCache } from '../event-cache.js';
import { LiveFeed } from '../live-feed.js';
import { takePage } from '../page.js';
import {
  type AppendOptions,
  type EventListener,
  IDEMPOTENCY_TTL_MS,
  MAX_WALLS_LISTED,
  type MessageStore,
  type OlderPage,
  type ReadBeforeQuery,
  type ReadQuery,
  type ReadResult,
  type ResetReason,
  retentionSweepMs,
  type StoreLimits,
  StoreUnavailableError,
  type WallEvent,
  type WallList,
  type WallListQuery,
  wallListAfter,
  wallListPage,
} from '../store.js';
import { openDatabaseFile } from './database-file.js';
import { type ActivityRow, type EventRow, prepareStatements, type Statements, type WallRow } from './schema.js';
import { type Outcome, type PendingWrite, settle, WriteBatch } from './write-batch.js';

/** Bytes of decoded events kept in memory: a whole wall of the longest messages (1000 × 16 KB). */
const EVENT_CACHE_BYTES = 16 * 1024 * 1024;

/**
 * The embedded default store: one SQLite file in WAL mode, opened (and
 * locked to this process) by database-file.ts, its tables in schema.ts.
 *
 * Appends are group-committed: the posts that arrive in one event-loop turn
 * share one transaction (and one fsync, `synchronous=FULL`), and each
 * resolves only after that commit (write-batch.ts runs the writes). Cursors
 * are `{epoch}-{seq}`: seqs come from one counter over all walls, kept by
 * this process, and never go back, so a cursor from before a restart
 * resumes exactly. The epoch is drawn when the file is created, so a cursor
 * from another (or a recreated) file is answered with a reset instead of a
 * wrong position.
 */
export class SqliteStore implements MessageStore {
  readonly #db: Database.Database;
  readonly #lock: Database.Database | undefined;
  readonly #statements: Statements;
  readonly #cursors: EpochCursors;
  #lastSeq: number;
  #wallsWithHistory: number;
  #queue: PendingWrite[] = [];
  #flushScheduled = false;
  /** Set while commits fail (a full disk, say): `/readyz` then answers not ready until a write goes through. */
  #writeFailure: unknown;
  readonly #feed = new LiveFeed();
  readonly #cache = new EventCache(EVENT_CACHE_BYTES);
  readonly #retentionSweep: NodeJS.Timeout | undefined;

  /** Opens (creating it and its directory when missing) the database at `path`; StoreOpenError when it cannot. */
  constructor(
    path: string,
    readonly limits: StoreLimits,
  ) {
    ({ db: this.#db, lock: this.#lock } = openDatabaseFile(path));
    this.#statements = prepareStatements(this.#db);
    const meta = (key: string) => (this.#statements.meta.get(key) as { value: string }).value;
    this.#cursors = new EpochCursors(meta('epoch'), '[0-9a-f]{8}');
    this.#lastSeq = Number(meta('last_seq'));
    this.#wallsWithHistory = (this.#statements.wallsWithHistoryCount.get() as { n: number }).n;
    if (limits.retentionMs !== undefined) {
      this.#retentionSweep = setInterval(
        () => this.#expire(limits.retentionMs as number),
        retentionSweepMs(limits.retentionMs),
      );
      this.#retentionSweep.unref();
    }
  }

  append(draft: NewMessage, options: AppendOptions = {}): Promise<Message> {
    return new Promise((resolve, reject) =>
      this.#enqueue({
        kind: 'message',
        wall: draft.wall,
        draft,
        idempotencyKey: options.idempotencyKey,
        resolve,
        reject,
      }),
    );
  }

  delete(wall: string, id: string): Promise<WallEvent | undefined> {
    return new Promise((resolve, reject) => this.#enqueue({ kind: 'delete', wall, id, resolve, reject }));
  }

  #enqueue(write: PendingWrite): void {
    this.#queue.push(write);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  async read(wall: string, query: ReadQuery): Promise<ReadResult> {
    return this.#answer(() => {
      const { head, trimmedUpto } = this.#span(wall);
      let reset: ResetReason | undefined;
      if (query.after !== undefined) {
        const position = this.#cursors.position(query.after, trimmedUpto, this.#lastSeq);
        if (typeof position === 'number') {
          const rows = this.#statements.after.iterate(wall, position, query.limit) as Iterable<EventRow>;
          return { events: page(rows, query).items.map((row) => this.#event(row)), head, start: query.after };
        }
        reset = position.reset;
      }
      const { rows } = this.#older(wall, Number.MAX_SAFE_INTEGER, query);
      const events = rows.map((row) => this.#event(row));
      // The row before the first one returned may be of another wall: any seq
      // between it and the first row names the same position, so seq - 1 does.
      const start = rows[0] === undefined ? head : this.#cursors.format(rows[0].seq - 1);
      return reset === undefined ? { events, head, start } : { events, head, start, reset };
    });
  }

  async readBefore(wall: string, query: ReadBeforeQuery): Promise<OlderPage> {
    return this.#answer(() => {
      const position = this.#cursors.position(query.before, this.#span(wall).trimmedUpto, this.#lastSeq);
      if (typeof position !== 'number' && position.reset === 'trimmed') {
        return { messages: [], more: false, reset: 'trimmed' };
      }
      const older = this.#older(wall, typeof position === 'number' ? position : Number.MAX_SAFE_INTEGER, query);
      const messages = older.rows.map((row) => (this.#event(row) as { message: Message }).message);
      return typeof position === 'number'
        ? { messages, more: older.more }
        : { messages, more: older.more, reset: position.reset };
    });
  }

  async listWalls(query: WallListQuery): Promise<WallList> {
    const after = wallListAfter(query.after);
    const limit = Math.min(query.limit, MAX_WALLS_LISTED);
    const rows = this.#answer(
      () =>
        (after === undefined
          ? this.#statements.walls.all(limit + 1)
          : this.#statements.wallsAfter.all(after.atMs, after.wall, limit + 1)) as ActivityRow[],
    );
    return wallListPage(rows, limit, (row) => this.#cursors.format(row.lastSeq));
  }

  async get(wall: string, id: string): Promise<Message | undefined> {
    return this.#answer(() => parsed(this.#statements.byId.get(wall, id)));
  }

  async findPost(wall: string, idempotencyKey: string): Promise<Message | undefined> {
    return this.#answer(() =>
      parsed(this.#statements.firstPost.get(wall, idempotencyKey, Date.now() - IDEMPOTENCY_TTL_MS)),
    );
  }

  compareCursors(a: string, b: string): number {
    return this.#cursors.compare(a, b);
  }

  onEvent(listener: EventListener): void {
    this.#feed.add(listener);
  }

  /** Ready when the database answers, and, after a failed commit, takes a write again. */
  async isReady(): Promise<boolean> {
    if (!this.#db.open) return false;
    try {
      this.#db.prepare('SELECT 1').get();
      if (this.#writeFailure !== undefined) {
        this.#statements.probe.run(String(Date.now()));
        this.#writeFailure = undefined;
      }
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (!this.#db.open) return;
    clearInterval(this.#retentionSweep);
    this.#flush();
    this.#feed.clear();
    this.#db.close();
    this.#lock?.close();
  }

  /** Runs a read; a failing database (I/O error, corrupt page) is the store being unavailable. */
  #answer<T>(read: () => T): T {
    try {
      return read();
    } catch (error) {
      throw new StoreUnavailableError('The SQLite database could not be read.', { cause: error });
    }
  }

  /** A wall's head, and the seq just before its oldest event kept (cursors before it are trimmed). */
  #span(wall: string): { head: string; trimmedUpto: number } {
    const row = this.#statements.wall.get(wall) as WallRow | undefined;
    return { head: this.#cursors.format(row?.lastSeq ?? 0), trimmedUpto: row?.trimmedUpto ?? 0 };
  }

  /** A page of a wall's messages before `seq`, oldest first (one row more is read, for `more`). */
  #older(wall: string, seq: number, query: ReadQuery | ReadBeforeQuery): { rows: EventRow[]; more: boolean } {
    const rows = this.#statements.older.iterate(wall, seq, query.limit + 1) as Iterable<EventRow>;
    const { items, more } = page(rows, query);
    return { rows: items.reverse(), more };
  }

  /** Commits every queued write in one transaction, then answers and feeds them. */
  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    let outcomes: Outcome[];
    let counters: { lastSeq: number; newWalls: number };
    try {
      ({ outcomes, counters } = this.#db.transaction(() => {
        const writes = new WriteBatch(
          this.#statements,
          this.#cursors,
          this.#cache,
          { lastSeq: this.#lastSeq, wallsWithHistory: this.#wallsWithHistory, limits: this.limits },
          Date.now(),
        );
        return { outcomes: batch.map((write) => writes.write(write)), counters: writes.finish() };
      })());
    } catch (error) {
      // The transaction rolled back: none of the batch was stored.
      this.#writeFailure = error;
      const failure = new StoreUnavailableError('The SQLite database refused the commit.', { cause: error });
      for (const write of batch) write.reject(failure);
      return;
    }
    this.#writeFailure = undefined;
    this.#lastSeq = counters.lastSeq;
    this.#wallsWithHistory += counters.newWalls;
    for (const [i, write] of batch.entries()) {
      const outcome = outcomes[i] as Outcome;
      if (outcome.kind === 'stored') {
        this.#cache.set(this.#cursors.seqOf(outcome.event.cursor), outcome.event, outcome.bytes);
      }
      settle(write, outcome);
      if (outcome.kind === 'stored') this.#feed.emit(write.wall, outcome.event);
    }
  }

  /** Deletes the events past the retention; a wall left empty no longer counts against maxWalls. */
  #expire(retentionMs: number): void {
    const nowMs = Date.now();
    try {
      let emptied = 0;
      this.#db.transaction(() => {
        for (const { wall } of this.#statements.wallsWithHistory.all() as { wall: string }[]) {
          const last = this.#statements.lastExpired.get(wall, nowMs - retentionMs) as { seq: number } | undefined;
          if (last === undefined) continue;
          const gone = this.#statements.span.get(wall, last.seq) as { rows: number; bytes: number };
          this.#statements.trim.run(wall, last.seq);
          this.#statements.saveTrim.run(gone.rows, gone.bytes, last.seq, wall);
          if ((this.#statements.wall.get(wall) as WallRow).rows === 0) emptied++;
        }
      })();
      this.#wallsWithHistory -= emptied;
      this.#cache.clear();
    } catch (error) {
      this.#writeFailure = error;
    }
  }

  #event(row: EventRow): WallEvent {
    const cached = this.#cache.get(row.seq);
    if (cached !== undefined) return cached;
    const cursor = this.#cursors.format(row.seq);
    const event: WallEvent =
      row.type === 'message'
        ? { type: 'message', cursor, message: storedMessage(JSON.parse(row.json) as Message) }
        : { type: 'delete', cursor, id: row.id };
    this.#cache.set(row.seq, event, row.bytes);
    return event;
  }
}

/** Rows of one page (`maxBytes` stops it early): the rest is never read from the database. */
function page(rows: Iterable<EventRow>, query: ReadQuery | ReadBeforeQuery) {
  return takePage(rows, (row) => row.bytes, query.limit, query.maxBytes);
}

/** The message of a row that holds one (`json`), or undefined for no row. */
function parsed(row: unknown): Message | undefined {
  return row === undefined ? undefined : storedMessage(JSON.parse((row as { json: string }).json) as Message);
}
