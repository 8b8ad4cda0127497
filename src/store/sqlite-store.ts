import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { type Message, type NewMessage, withCursor } from '../message.js';
import { EpochCursors } from './epoch-cursor.js';
import { LiveFeed } from './live-feed.js';
import {
  type EventListener,
  type MessageStore,
  type ReadQuery,
  type ReadResult,
  type ResetReason,
  StoreUnavailableError,
  TRIM_SLACK,
  type WallEvent,
} from './store.js';

/** Decoded events kept in memory, so a replay storm parses each row once. */
const EVENT_CACHE_SIZE = 10_000;

interface EventRow {
  seq: number;
  type: 'message' | 'delete';
  id: string;
  json: string;
}

/** A write waiting for the next group commit: a post, or a moderation delete. */
type PendingWrite = { wall: string; reject: (error: unknown) => void } & (
  | { kind: 'message'; draft: NewMessage; resolve: (message: Message) => void }
  | { kind: 'delete'; id: string; resolve: (event: WallEvent | undefined) => void }
);

/**
 * The embedded default store: one SQLite file in WAL mode.
 *
 * Appends are group-committed: the posts that arrive in one event-loop turn
 * share one transaction (and one fsync, `synchronous=FULL`), and each
 * resolves only after that commit. Cursors are `{epoch}-{seq}`: seqs come
 * from one counter over all walls, kept by this process (one process per
 * file), and never go back, so a cursor from before a restart resumes
 * exactly. The epoch is drawn when the file is created, so a cursor from
 * another (or a recreated) file is answered with a reset instead of a wrong
 * position.
 */
export class SqliteStore implements MessageStore {
  readonly #db: Database.Database;
  readonly #cursors: EpochCursors;
  #lastSeq: number;
  #queue: PendingWrite[] = [];
  #flushScheduled = false;
  readonly #feed = new LiveFeed();
  readonly #cache = new Map<number, WallEvent>();
  readonly #statements;

  constructor(
    path: string,
    readonly historySize: number,
  ) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.pragma('busy_timeout = 5000');
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS events (
        seq  INTEGER PRIMARY KEY,
        wall TEXT NOT NULL,
        type TEXT NOT NULL,
        id   TEXT NOT NULL,
        json TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS events_by_wall ON events (wall, seq);
      CREATE INDEX IF NOT EXISTS messages_by_id ON events (wall, id) WHERE type = 'message';
      CREATE TABLE IF NOT EXISTS walls (
        wall         TEXT PRIMARY KEY,
        rows         INTEGER NOT NULL,
        trimmed_upto INTEGER NOT NULL
      );
    `);
    this.#db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('epoch', ?)").run(randomBytes(4).toString('hex'));
    this.#db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('last_seq', '0')").run();
    const meta = (key: string) =>
      (this.#db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string }).value;
    this.#cursors = new EpochCursors(meta('epoch'), '[0-9a-f]{8}');
    this.#lastSeq = Number(meta('last_seq'));
    this.#statements = {
      insert: this.#db.prepare('INSERT INTO events (seq, wall, type, id, json) VALUES (?, ?, ?, ?, ?)'),
      countRow: this.#db.prepare(
        'INSERT INTO walls (wall, rows, trimmed_upto) VALUES (?, 1, 0) ON CONFLICT (wall) DO UPDATE SET rows = rows + 1 RETURNING rows',
      ),
      saveLastSeq: this.#db.prepare("UPDATE meta SET value = ? WHERE key = 'last_seq'"),
      nthOldest: this.#db.prepare('SELECT seq FROM events WHERE wall = ? ORDER BY seq LIMIT 1 OFFSET ?'),
      trim: this.#db.prepare('DELETE FROM events WHERE wall = ? AND seq <= ?'),
      saveTrim: this.#db.prepare('UPDATE walls SET rows = rows - ?, trimmed_upto = ? WHERE wall = ?'),
      wall: this.#db.prepare('SELECT trimmed_upto AS trimmedUpto FROM walls WHERE wall = ?'),
      head: this.#db.prepare('SELECT max(seq) AS seq FROM events WHERE wall = ?'),
      after: this.#db.prepare('SELECT seq, type, id, json FROM events WHERE wall = ? AND seq > ? ORDER BY seq LIMIT ?'),
      newest: this.#db.prepare(
        "SELECT seq, type, id, json FROM events WHERE wall = ? AND type = 'message' ORDER BY seq DESC LIMIT ?",
      ),
      byId: this.#db.prepare("SELECT seq, json FROM events WHERE wall = ? AND id = ? AND type = 'message'"),
      remove: this.#db.prepare('DELETE FROM events WHERE seq = ?'),
    };
  }

  append(draft: NewMessage): Promise<Message> {
    return new Promise((resolve, reject) =>
      this.#enqueue({ kind: 'message', wall: draft.wall, draft, resolve, reject }),
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
    return this.#answer(() => this.#read(wall, query));
  }

  #read(wall: string, query: ReadQuery): ReadResult {
    const trimmedUpto = (this.#statements.wall.get(wall) as { trimmedUpto: number } | undefined)?.trimmedUpto ?? 0;
    const headSeq = (this.#statements.head.get(wall) as { seq: number | null }).seq ?? trimmedUpto;
    const head = this.#cursors.format(headSeq);
    let reset: ResetReason | undefined;
    if (query.after !== undefined) {
      const position = this.#cursors.position(query.after, trimmedUpto, this.#lastSeq);
      if (typeof position === 'number') {
        const rows = this.#statements.after.all(wall, position, query.limit) as EventRow[];
        return { events: rows.map((row) => this.#event(row)), head, start: query.after };
      }
      reset = position.reset;
    }
    const rows = (this.#statements.newest.all(wall, query.limit) as EventRow[]).reverse();
    const events = rows.map((row) => this.#event(row));
    const first = rows[0];
    // The row before the first one returned may be of another wall: any seq
    // between it and the first row names the same position, so seq - 1 does.
    const start = first === undefined ? head : this.#cursors.format(first.seq - 1);
    return reset === undefined ? { events, head, start } : { events, head, start, reset };
  }

  async get(wall: string, id: string): Promise<Message | undefined> {
    return this.#answer(() => {
      const row = this.#statements.byId.get(wall, id) as { json: string } | undefined;
      return row === undefined ? undefined : (JSON.parse(row.json) as Message);
    });
  }

  compareCursors(a: string, b: string): number {
    return this.#cursors.compare(a, b);
  }

  onEvent(listener: EventListener): void {
    this.#feed.add(listener);
  }

  async isReady(): Promise<boolean> {
    return this.#db.open && this.#db.prepare('SELECT 1 AS ok').get() !== undefined;
  }

  async close(): Promise<void> {
    if (!this.#db.open) return;
    this.#flush();
    this.#feed.clear();
    this.#db.close();
  }

  /** Runs a read; a failing database (I/O error, corrupt page) is the store being unavailable. */
  #answer<T>(read: () => T): T {
    try {
      return read();
    } catch (error) {
      throw new StoreUnavailableError('The SQLite database could not be read.', { cause: error });
    }
  }

  /** Commits every queued append in one transaction, then answers and feeds them. */
  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    let outcome: { results: (WallEvent | undefined)[]; lastSeq: number };
    try {
      outcome = this.#db.transaction(() => {
        const results: (WallEvent | undefined)[] = [];
        const grown = new Map<string, number>();
        let seq = this.#lastSeq;
        for (const write of batch) {
          if (write.kind === 'message') {
            seq++;
            const message = withCursor(write.draft, this.#cursors.format(seq));
            this.#statements.insert.run(seq, write.wall, 'message', message.id, JSON.stringify(message));
            const { rows } = this.#statements.countRow.get(write.wall) as { rows: number };
            grown.set(write.wall, rows);
            results.push({ type: 'message', cursor: message.cursor, message });
            continue;
          }
          const target = this.#statements.byId.get(write.wall, write.id) as { seq: number } | undefined;
          if (target === undefined) {
            results.push(undefined);
            continue;
          }
          seq++;
          // The message row leaves; the delete row takes its place in the wall's count.
          this.#statements.remove.run(target.seq);
          this.#cache.delete(target.seq);
          this.#statements.insert.run(seq, write.wall, 'delete', write.id, JSON.stringify({ id: write.id }));
          results.push({ type: 'delete', cursor: this.#cursors.format(seq), id: write.id });
        }
        this.#statements.saveLastSeq.run(String(seq));
        for (const [wall, rows] of grown) if (rows > this.historySize + TRIM_SLACK) this.#trim(wall, rows);
        return { results, lastSeq: seq };
      })();
    } catch (error) {
      // The transaction rolled back: none of the batch was stored.
      const failure = new StoreUnavailableError('The SQLite database refused the commit.', { cause: error });
      for (const write of batch) write.reject(failure);
      return;
    }
    this.#lastSeq = outcome.lastSeq;
    batch.forEach((write, i) => {
      const event = outcome.results[i];
      if (event !== undefined) this.#remember(event, this.#cursors.seqOf(event.cursor));
      if (write.kind === 'message') write.resolve((event as Extract<WallEvent, { type: 'message' }>).message);
      else write.resolve(event);
      if (event !== undefined) this.#feed.emit(write.wall, event);
    });
  }

  /** Deletes a wall's oldest rows down to `historySize`, remembering where it cut. */
  #trim(wall: string, rows: number): void {
    const excess = rows - this.historySize;
    const last = this.#statements.nthOldest.get(wall, excess - 1) as { seq: number } | undefined;
    if (last === undefined) return;
    this.#statements.trim.run(wall, last.seq);
    this.#statements.saveTrim.run(excess, last.seq, wall);
  }

  #event(row: EventRow): WallEvent {
    const cached = this.#cache.get(row.seq);
    if (cached !== undefined) return cached;
    const cursor = this.#cursors.format(row.seq);
    const event: WallEvent =
      row.type === 'message'
        ? { type: 'message', cursor, message: JSON.parse(row.json) as Message }
        : { type: 'delete', cursor, id: row.id };
    this.#remember(event, row.seq);
    return event;
  }

  #remember(event: WallEvent, seq: number): void {
    this.#cache.set(seq, event);
    if (this.#cache.size > EVENT_CACHE_SIZE) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
  }
}
