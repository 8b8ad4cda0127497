import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { type Message, type NewMessage, withCursor } from '../message.js';
import { EpochCursors } from './epoch-cursor.js';
import { EventCache } from './event-cache.js';
import { LiveFeed } from './live-feed.js';
import { takePage } from './page.js';
import {
  type AppendOptions,
  BYTES_SLACK,
  type EventListener,
  eventBytes,
  formatWallListCursor,
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
  StoreOpenError,
  StoreUnavailableError,
  TRIM_SLACK,
  type WallEvent,
  WallLimitError,
  type WallList,
  type WallListQuery,
  wallListAfter,
} from './store.js';

/** Bytes of decoded events kept in memory: a whole wall of the longest messages (1000 × 16 KB). */
const EVENT_CACHE_BYTES = 16 * 1024 * 1024;

interface EventRow {
  seq: number;
  type: 'message' | 'delete';
  id: string;
  json: string;
  bytes: number;
}

interface WallRow {
  rows: number;
  bytes: number;
  trimmedUpto: number;
}

/** What a batch changes in one wall's row: rows and bytes added (a delete may take bytes away), its newest seq. */
interface WallGrowth {
  rows: number;
  bytes: number;
  lastSeq: number;
}

/** A write waiting for the next group commit: a post, or a moderation delete. */
type PendingWrite = { wall: string; reject: (error: unknown) => void } & (
  | { kind: 'message'; draft: NewMessage; idempotencyKey?: string; resolve: (message: Message) => void }
  | { kind: 'delete'; id: string; resolve: (event: WallEvent | undefined) => void }
);

/** What one write of a batch came to, inside the transaction. */
type Outcome =
  | { kind: 'stored'; event: WallEvent; bytes: number }
  | { kind: 'replayed'; message: Message }
  | { kind: 'refused'; error: Error }
  | { kind: 'none' };

/**
 * The embedded default store: one SQLite file in WAL mode.
 *
 * Appends are group-committed: the posts that arrive in one event-loop turn
 * share one transaction (and one fsync, `synchronous=FULL`), and each
 * resolves only after that commit. Cursors are `{epoch}-{seq}`: seqs come
 * from one counter over all walls, kept by this process, and never go back,
 * so a cursor from before a restart resumes exactly. The epoch is drawn when
 * the file is created, so a cursor from another (or a recreated) file is
 * answered with a reset instead of a wrong position.
 *
 * One process per file, enforced: a sidecar `{path}.lock` database is held
 * in an exclusive lock for the life of the store (the OS releases it when
 * the process dies, even by SIGKILL), so a second process refuses to start
 * instead of failing every post.
 */
export class SqliteStore implements MessageStore {
  readonly #db: Database.Database;
  readonly #lock: Database.Database | undefined;
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
  readonly #statements;

  /** Opens (creating it and its directory when missing) the database at `path`; StoreOpenError when it cannot. */
  constructor(
    path: string,
    readonly limits: StoreLimits,
  ) {
    const inMemory = path === ':memory:';
    if (!inMemory) {
      ensureDirectory(dirname(resolve(path)));
      assertWritable(path);
    }
    this.#lock = inMemory ? undefined : holdLock(`${path}.lock`);
    try {
      this.#db = openDatabase(path);
    } catch (error) {
      this.#lock?.close();
      throw error;
    }
    const meta = (key: string) =>
      (this.#db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string }).value;
    this.#cursors = new EpochCursors(meta('epoch'), '[0-9a-f]{8}');
    this.#lastSeq = Number(meta('last_seq'));
    this.#wallsWithHistory = (
      this.#db.prepare('SELECT count(*) AS n FROM walls WHERE rows > 0').get() as { n: number }
    ).n;
    this.#statements = {
      insert: this.#db.prepare(
        'INSERT INTO events (seq, wall, type, id, json, bytes, at_ms, post_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      grow: this.#db.prepare(
        `INSERT INTO walls (wall, rows, bytes, trimmed_upto, last_seq, last_ms) VALUES (?, ?, ?, 0, ?, ?)
         ON CONFLICT (wall) DO UPDATE SET rows = rows + excluded.rows, bytes = bytes + excluded.bytes,
           last_seq = excluded.last_seq, last_ms = excluded.last_ms`,
      ),
      saveLastSeq: this.#db.prepare("UPDATE meta SET value = ? WHERE key = 'last_seq'"),
      oldest: this.#db.prepare('SELECT seq, bytes FROM events WHERE wall = ? ORDER BY seq'),
      trim: this.#db.prepare('DELETE FROM events WHERE wall = ? AND seq <= ?'),
      saveTrim: this.#db.prepare(
        'UPDATE walls SET rows = rows - ?, bytes = bytes - ?, trimmed_upto = max(trimmed_upto, ?) WHERE wall = ?',
      ),
      wall: this.#db.prepare('SELECT rows, bytes, trimmed_upto AS trimmedUpto FROM walls WHERE wall = ?'),
      head: this.#db.prepare('SELECT max(seq) AS seq FROM events WHERE wall = ?'),
      after: this.#db.prepare(
        'SELECT seq, type, id, json, bytes FROM events WHERE wall = ? AND seq > ? ORDER BY seq LIMIT ?',
      ),
      // Newest first; a fresh read asks for the messages before a seq past every other.
      older: this.#db.prepare(
        "SELECT seq, type, id, json, bytes FROM events WHERE wall = ? AND type = 'message' AND seq < ? ORDER BY seq DESC LIMIT ?",
      ),
      byId: this.#db.prepare("SELECT seq, json, bytes FROM events WHERE wall = ? AND id = ? AND type = 'message'"),
      remove: this.#db.prepare('DELETE FROM events WHERE seq = ?'),
      firstPost: this.#db.prepare(
        "SELECT json FROM events WHERE wall = ? AND post_key = ? AND type = 'message' AND at_ms > ? ORDER BY seq DESC LIMIT 1",
      ),
      wallsWithHistory: this.#db.prepare('SELECT wall FROM walls WHERE rows > 0'),
      lastExpired: this.#db.prepare(
        'SELECT seq FROM events WHERE wall = ? AND at_ms < ? ORDER BY at_ms DESC, seq DESC LIMIT 1',
      ),
      span: this.#db.prepare(
        'SELECT count(*) AS rows, coalesce(sum(bytes), 0) AS bytes FROM events WHERE wall = ? AND seq <= ?',
      ),
      walls: this.#db.prepare(
        'SELECT wall, last_seq AS lastSeq, last_ms AS atMs FROM walls WHERE rows > 0 ORDER BY last_ms DESC, wall DESC LIMIT ?',
      ),
      wallsAfter: this.#db.prepare(
        `SELECT wall, last_seq AS lastSeq, last_ms AS atMs FROM walls
         WHERE rows > 0 AND (last_ms, wall) < (?, ?) ORDER BY last_ms DESC, wall DESC LIMIT ?`,
      ),
      probe: this.#db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('ready_probe', ?)"),
    };
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
    return this.#answer(() => this.#read(wall, query));
  }

  #read(wall: string, query: ReadQuery): ReadResult {
    const { head, trimmedUpto } = this.#span(wall);
    let reset: ResetReason | undefined;
    if (query.after !== undefined) {
      const position = this.#cursors.position(query.after, trimmedUpto, this.#lastSeq);
      if (typeof position === 'number') {
        const rows = page(this.#statements.after.iterate(wall, position, query.limit) as Iterable<EventRow>, query);
        return { events: rows.items.map((row) => this.#event(row)), head, start: query.after };
      }
      reset = position.reset;
    }
    const rows = this.#older(wall, Number.MAX_SAFE_INTEGER, query).rows;
    const events = rows.map((row) => this.#event(row));
    const first = rows[0];
    // The row before the first one returned may be of another wall: any seq
    // between it and the first row names the same position, so seq - 1 does.
    const start = first === undefined ? head : this.#cursors.format(first.seq - 1);
    return reset === undefined ? { events, head, start } : { events, head, start, reset };
  }

  async readBefore(wall: string, query: ReadBeforeQuery): Promise<OlderPage> {
    return this.#answer(() => {
      const { trimmedUpto } = this.#span(wall);
      const position = this.#cursors.position(query.before, trimmedUpto, this.#lastSeq);
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
          : this.#statements.wallsAfter.all(after.atMs, after.wall, limit + 1)) as {
          wall: string;
          lastSeq: number;
          atMs: number;
        }[],
    );
    const walls = rows.slice(0, limit).map((row) => ({
      wall: row.wall,
      lastActivityAt: new Date(row.atMs).toISOString(),
      head: this.#cursors.format(row.lastSeq),
    }));
    const last = rows[limit - 1];
    return rows.length > limit && last !== undefined ? { walls, next: formatWallListCursor(last) } : { walls };
  }

  /** A wall's head, and the seq just before its oldest event kept (cursors before it are trimmed). */
  #span(wall: string): { head: string; trimmedUpto: number } {
    const trimmedUpto = (this.#statements.wall.get(wall) as WallRow | undefined)?.trimmedUpto ?? 0;
    const headSeq = (this.#statements.head.get(wall) as { seq: number | null }).seq ?? trimmedUpto;
    return { head: this.#cursors.format(headSeq), trimmedUpto };
  }

  /** A page of a wall's messages before `seq`, oldest first (one row more is read, for `more`). */
  #older(wall: string, seq: number, query: ReadQuery | ReadBeforeQuery): { rows: EventRow[]; more: boolean } {
    const rows = this.#statements.older.iterate(wall, seq, query.limit + 1) as Iterable<EventRow>;
    const { items, more } = page(rows, query);
    return { rows: items.reverse(), more };
  }

  async get(wall: string, id: string): Promise<Message | undefined> {
    return this.#answer(() => {
      const row = this.#statements.byId.get(wall, id) as { json: string } | undefined;
      return row === undefined ? undefined : (JSON.parse(row.json) as Message);
    });
  }

  async findPost(wall: string, idempotencyKey: string): Promise<Message | undefined> {
    return this.#answer(() => {
      const row = this.#statements.firstPost.get(wall, idempotencyKey, Date.now() - IDEMPOTENCY_TTL_MS) as
        | { json: string }
        | undefined;
      return row === undefined ? undefined : (JSON.parse(row.json) as Message);
    });
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

  /** Commits every queued write in one transaction, then answers and feeds them. */
  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    const nowMs = Date.now();
    let committed: { outcomes: Outcome[]; lastSeq: number; newWalls: number };
    try {
      committed = this.#db.transaction(() => this.#write(batch, nowMs))();
    } catch (error) {
      // The transaction rolled back: none of the batch was stored.
      this.#writeFailure = error;
      const failure = new StoreUnavailableError('The SQLite database refused the commit.', { cause: error });
      for (const write of batch) write.reject(failure);
      return;
    }
    this.#writeFailure = undefined;
    this.#lastSeq = committed.lastSeq;
    this.#wallsWithHistory += committed.newWalls;
    for (const [i, write] of batch.entries()) {
      const outcome = committed.outcomes[i] as Outcome;
      if (outcome.kind === 'stored') {
        this.#cache.set(this.#cursors.seqOf(outcome.event.cursor), outcome.event, outcome.bytes);
      }
      settle(write, outcome);
      if (outcome.kind === 'stored') this.#feed.emit(write.wall, outcome.event);
    }
  }

  /** The batch, inside its transaction. Counters change only once it commits. */
  #write(batch: PendingWrite[], nowMs: number): { outcomes: Outcome[]; lastSeq: number; newWalls: number } {
    const outcomes: Outcome[] = [];
    /** The walls this batch changes, with what it changes in each. */
    const grown = new Map<string, WallGrowth>();
    let seq = this.#lastSeq;
    let newWalls = 0;
    for (const write of batch) {
      if (write.kind === 'delete') {
        const target = this.#statements.byId.get(write.wall, write.id) as { seq: number; bytes: number } | undefined;
        if (target === undefined) {
          outcomes.push({ kind: 'none' });
          continue;
        }
        seq++;
        const event: WallEvent = { type: 'delete', cursor: this.#cursors.format(seq), id: write.id };
        // The message row leaves; the delete row takes its place in the wall's count.
        this.#statements.remove.run(target.seq);
        this.#cache.delete(target.seq);
        this.#statements.insert.run(
          seq,
          write.wall,
          'delete',
          write.id,
          JSON.stringify({ id: write.id }),
          eventBytes(event),
          nowMs,
          null,
        );
        const growth = grown.get(write.wall) ?? { rows: 0, bytes: 0, lastSeq: seq };
        growth.bytes += eventBytes(event) - target.bytes;
        growth.lastSeq = seq;
        grown.set(write.wall, growth);
        outcomes.push({ kind: 'stored', event, bytes: eventBytes(event) });
        continue;
      }
      const key = write.idempotencyKey;
      if (key !== undefined) {
        const first = this.#statements.firstPost.get(write.wall, key, nowMs - IDEMPOTENCY_TTL_MS) as
          | { json: string }
          | undefined;
        if (first !== undefined) {
          outcomes.push({ kind: 'replayed', message: JSON.parse(first.json) as Message });
          continue;
        }
      }
      let growth = grown.get(write.wall);
      if (growth === undefined) {
        const wall = this.#statements.wall.get(write.wall) as WallRow | undefined;
        if (wall === undefined || wall.rows === 0) {
          if (this.#wallsWithHistory + newWalls >= this.limits.maxWalls) {
            outcomes.push({ kind: 'refused', error: new WallLimitError(this.limits.maxWalls) });
            continue;
          }
          newWalls++;
        }
        growth = { rows: 0, bytes: 0, lastSeq: 0 };
        grown.set(write.wall, growth);
      }
      seq++;
      const message = withCursor(write.draft, this.#cursors.format(seq));
      const event: WallEvent = { type: 'message', cursor: message.cursor, message };
      const json = JSON.stringify(message);
      const bytes = Buffer.byteLength(json);
      this.#statements.insert.run(seq, write.wall, 'message', message.id, json, bytes, nowMs, key ?? null);
      growth.rows++;
      growth.bytes += bytes;
      growth.lastSeq = seq;
      outcomes.push({ kind: 'stored', event, bytes });
    }
    this.#statements.saveLastSeq.run(String(seq));
    // Each wall's row once per commit, however many of its events the batch holds.
    for (const [wall, growth] of grown) {
      this.#statements.grow.run(wall, growth.rows, growth.bytes, growth.lastSeq, nowMs);
      this.#trimToBounds(wall);
    }
    return { outcomes, lastSeq: seq, newWalls };
  }

  /** Deletes a wall's oldest rows once it is past a bound (by a slack), down to both bounds. */
  #trimToBounds(wall: string): void {
    const { historySize, historyBytes } = this.limits;
    const row = this.#statements.wall.get(wall) as WallRow;
    if (row.rows <= historySize + TRIM_SLACK && row.bytes <= historyBytes * (1 + BYTES_SLACK)) return;
    const excessRows = row.rows - historySize;
    const excessBytes = row.bytes - historyBytes;
    let rows = 0;
    let bytes = 0;
    let cut = 0;
    // Oldest first; the newest row always stays.
    for (const old of this.#statements.oldest.iterate(wall) as Iterable<{ seq: number; bytes: number }>) {
      if ((rows >= excessRows && bytes >= excessBytes) || rows === row.rows - 1) break;
      rows++;
      bytes += old.bytes;
      cut = old.seq;
      this.#cache.delete(old.seq);
    }
    if (rows === 0) return;
    this.#statements.trim.run(wall, cut);
    this.#statements.saveTrim.run(rows, bytes, cut, wall);
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
        ? { type: 'message', cursor, message: JSON.parse(row.json) as Message }
        : { type: 'delete', cursor, id: row.id };
    this.#cache.set(row.seq, event, row.bytes);
    return event;
  }
}

/** Answers one write of a committed batch with what it came to. */
function settle(write: PendingWrite, outcome: Outcome): void {
  if (outcome.kind === 'refused') write.reject(outcome.error);
  else if (write.kind === 'delete') write.resolve(outcome.kind === 'stored' ? outcome.event : undefined);
  else if (outcome.kind === 'replayed') write.resolve(outcome.message);
  else if (outcome.kind === 'stored' && outcome.event.type === 'message') write.resolve(outcome.event.message);
}

/** Rows of one page (`maxBytes` stops it early): the rest is never read from the database. */
function page(rows: Iterable<EventRow>, query: ReadQuery | ReadBeforeQuery) {
  return takePage(rows, (row) => row.bytes, query.limit, query.maxBytes);
}

/**
 * Creates `dir` and its missing parents one level at a time. Not
 * `mkdirSync(recursive)`: on a path such as /proc/x it loops for ever.
 */
function ensureDirectory(dir: string): void {
  try {
    if (statSync(dir).isDirectory()) return;
    throw new StoreOpenError(`${dir} is not a directory`);
  } catch (error) {
    if (error instanceof StoreOpenError || (error as NodeJS.ErrnoException).code !== 'ENOENT')
      throw describe(error, dir);
  }
  ensureDirectory(dirname(dir));
  try {
    mkdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw describe(error, dir, 'cannot create the directory');
  }
}

/** SQLite writes `path`, `path-wal` and `path-shm`: the file and its directory must take writes. */
function assertWritable(path: string): void {
  for (const target of [path, dirname(resolve(path))]) {
    try {
      accessSync(target, constants.W_OK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw describe(error, target, 'cannot write to');
    }
  }
}

/** Takes the lock that makes this the only process using the database. */
function holdLock(path: string): Database.Database {
  let lock: Database.Database | undefined;
  try {
    lock = new Database(path, { timeout: 0 });
    lock.pragma('locking_mode = EXCLUSIVE');
    // The first write takes the exclusive lock, held until this connection closes.
    lock.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER); DELETE FROM holder;');
    lock.prepare('INSERT INTO holder (pid) VALUES (?)').run(process.pid);
    return lock;
  } catch (error) {
    lock?.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY') {
      throw new StoreOpenError(
        `${path.replace(/\.lock$/, '')} is in use by another wallcast process (one process per database file)`,
      );
    }
    throw describe(error, path);
  }
}

function openDatabase(path: string): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    migrate(db);
    return db;
  } catch (error) {
    db?.close();
    throw describe(error, path);
  }
}

/**
 * The schema: created when missing, then brought to the newest version one
 * step at a time (`PRAGMA user_version` counts the steps a file has taken),
 * so every file a wallcast ever wrote opens.
 */
function migrate(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS events (
      seq   INTEGER PRIMARY KEY,
      wall  TEXT NOT NULL,
      type  TEXT NOT NULL,
      id    TEXT NOT NULL,
      json  TEXT NOT NULL,
      bytes INTEGER NOT NULL DEFAULT 0,
      at_ms INTEGER NOT NULL DEFAULT 0,
      post_key TEXT
    );
    CREATE INDEX IF NOT EXISTS events_by_wall ON events (wall, seq);
    CREATE INDEX IF NOT EXISTS messages_by_id ON events (wall, id) WHERE type = 'message';
    CREATE TABLE IF NOT EXISTS walls (
      wall         TEXT PRIMARY KEY,
      rows         INTEGER NOT NULL,
      trimmed_upto INTEGER NOT NULL,
      bytes        INTEGER NOT NULL DEFAULT 0
    );
  `);
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new StoreOpenError(
      `the database is of a newer wallcast (schema ${version}; this one knows ${MIGRATIONS.length})`,
    );
  }
  for (const [i, step] of MIGRATIONS.entries()) {
    if (i < version) continue;
    db.transaction(() => {
      step(db);
      db.pragma(`user_version = ${i + 1}`);
    })();
  }
}

/** The steps from an unversioned file (the tables above) to the newest schema; never edit one, add one. */
const MIGRATIONS: ((db: Database.Database) => void)[] = [
  // 1: the columns added before files had a version (each added only when missing), the epoch and the seq counter.
  (db) => {
    const columns = (table: string) =>
      new Set((db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name));
    const events = columns('events');
    if (!events.has('post_key')) db.exec('ALTER TABLE events ADD COLUMN post_key TEXT');
    // The key lives with its message, and goes when the message is trimmed.
    db.exec('CREATE INDEX IF NOT EXISTS messages_by_post_key ON events (wall, post_key) WHERE post_key IS NOT NULL');
    if (!events.has('bytes')) {
      db.exec(`
        ALTER TABLE events ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE events ADD COLUMN at_ms INTEGER NOT NULL DEFAULT 0;
        UPDATE events SET bytes = length(CAST(json AS BLOB)),
          at_ms = coalesce(CAST(strftime('%s', json_extract(json, '$.createdAt')) AS INTEGER) * 1000, 0);
      `);
    }
    if (!columns('walls').has('bytes')) {
      db.exec(`
        ALTER TABLE walls ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
        UPDATE walls SET bytes = (SELECT coalesce(sum(bytes), 0) FROM events WHERE events.wall = walls.wall);
      `);
    }
    db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('epoch', ?)").run(randomBytes(4).toString('hex'));
    db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('last_seq', '0')").run();
  },
  // 2: each wall's newest event (seq and time), and the index listWalls pages through (issue 18).
  (db) => {
    db.exec(`
      ALTER TABLE walls ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE walls ADD COLUMN last_ms INTEGER NOT NULL DEFAULT 0;
      UPDATE walls SET
        last_seq = coalesce((SELECT max(seq) FROM events WHERE events.wall = walls.wall), trimmed_upto),
        last_ms = coalesce((SELECT at_ms FROM events WHERE events.wall = walls.wall ORDER BY seq DESC LIMIT 1), 0);
      CREATE INDEX walls_by_activity ON walls (last_ms DESC, wall DESC) WHERE rows > 0;
    `);
  },
];

/** One line a person can act on, from what the file system or SQLite said. */
function describe(error: unknown, path: string, doing?: string): StoreOpenError {
  if (error instanceof StoreOpenError) return error;
  const code = (error as { code?: string }).code ?? '';
  const detail = error instanceof Error ? error.message : String(error);
  if (doing !== undefined) return new StoreOpenError(`${doing} ${path} (${detail})`, { cause: error });
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new StoreOpenError(`${path} is not a wallcast database, or it is corrupt (${detail})`, { cause: error });
  }
  if (code === 'SQLITE_READONLY') return new StoreOpenError(`${path} is read-only (${detail})`, { cause: error });
  return new StoreOpenError(`cannot open ${path} (${detail})`, { cause: error });
}
