/**
 * The SQLite store's schema, its versions, and the statements the store
 * runs on it.
 *
 * - `events`: every wall's log, one row per event, `seq` from one counter
 *   over all walls (`meta.last_seq`). `json` is the message with its cursor;
 *   `bytes` its size (`eventBytes`); `at_ms` when it was stored, for the
 *   retention; `post_key` the idempotency key it was posted with.
 * - `walls`: per wall, the rows and bytes it keeps (its bounds), the last
 *   seq trimmed away (`trimmed_upto`: resuming before it is a reset), and
 *   its newest event (`last_seq`, `last_ms`) for `listWalls`.
 * - `meta`: `epoch` (drawn when the file is created; in every cursor) and
 *   `last_seq`.
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';

/** The schema this code writes: `PRAGMA user_version` counts the steps of MIGRATIONS a file has taken. */
export const SCHEMA_VERSION = 2;

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * The schema: created when missing, then brought to SCHEMA_VERSION one step
 * at a time, each step in a transaction of its own, so every file a
 * wallcast ever wrote opens.
 */
export function migrate(db: Database.Database): void {
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
  for (const [i, step] of MIGRATIONS.entries()) {
    if (i < schemaVersion(db)) continue;
    db.transaction(() => {
      step(db);
      db.pragma(`user_version = ${i + 1}`);
    })();
  }
}

/** The steps from an unversioned file (the tables above) to SCHEMA_VERSION; never edit one, add one. */
const MIGRATIONS: ((db: Database.Database) => void)[] = [
  // 1: the columns added before files had a version (each only when missing), the epoch and the seq counter.
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

/** An event as the reads select it. */
export interface EventRow {
  seq: number;
  type: 'message' | 'delete';
  id: string;
  json: string;
  bytes: number;
}

export interface WallRow {
  rows: number;
  bytes: number;
  trimmedUpto: number;
  /** The wall's newest seq (its head), kept by every commit; `trimmedUpto` once nothing is left. */
  lastSeq: number;
}

/** A wall as listWalls selects it. */
export interface ActivityRow {
  wall: string;
  lastSeq: number;
  atMs: number;
}

export type Statements = ReturnType<typeof prepareStatements>;

/** Every statement the store runs, prepared once. */
export function prepareStatements(db: Database.Database) {
  return {
    meta: db.prepare('SELECT value FROM meta WHERE key = ?'),
    wallsWithHistoryCount: db.prepare('SELECT count(*) AS n FROM walls WHERE rows > 0'),
    insert: db.prepare(
      'INSERT INTO events (seq, wall, type, id, json, bytes, at_ms, post_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    // A wall's row once per commit: what the batch added (a delete may take bytes away), its newest event.
    grow: db.prepare(
      `INSERT INTO walls (wall, rows, bytes, trimmed_upto, last_seq, last_ms) VALUES (?, ?, ?, 0, ?, ?)
       ON CONFLICT (wall) DO UPDATE SET rows = rows + excluded.rows, bytes = bytes + excluded.bytes,
         last_seq = excluded.last_seq, last_ms = excluded.last_ms`,
    ),
    saveLastSeq: db.prepare("UPDATE meta SET value = ? WHERE key = 'last_seq'"),
    oldest: db.prepare('SELECT seq, bytes FROM events WHERE wall = ? ORDER BY seq'),
    trim: db.prepare('DELETE FROM events WHERE wall = ? AND seq <= ?'),
    saveTrim: db.prepare(
      'UPDATE walls SET rows = rows - ?, bytes = bytes - ?, trimmed_upto = max(trimmed_upto, ?) WHERE wall = ?',
    ),
    wall: db.prepare('SELECT rows, bytes, trimmed_upto AS trimmedUpto, last_seq AS lastSeq FROM walls WHERE wall = ?'),
    after: db.prepare('SELECT seq, type, id, json, bytes FROM events WHERE wall = ? AND seq > ? ORDER BY seq LIMIT ?'),
    // Newest first; a fresh read asks for the messages before a seq past every other.
    older: db.prepare(
      "SELECT seq, type, id, json, bytes FROM events WHERE wall = ? AND type = 'message' AND seq < ? ORDER BY seq DESC LIMIT ?",
    ),
    byId: db.prepare("SELECT seq, json, bytes FROM events WHERE wall = ? AND id = ? AND type = 'message'"),
    remove: db.prepare('DELETE FROM events WHERE seq = ?'),
    firstPost: db.prepare(
      "SELECT json FROM events WHERE wall = ? AND post_key = ? AND type = 'message' AND at_ms > ? ORDER BY seq DESC LIMIT 1",
    ),
    wallsWithHistory: db.prepare('SELECT wall FROM walls WHERE rows > 0'),
    lastExpired: db.prepare(
      'SELECT seq FROM events WHERE wall = ? AND at_ms < ? ORDER BY at_ms DESC, seq DESC LIMIT 1',
    ),
    span: db.prepare(
      'SELECT count(*) AS rows, coalesce(sum(bytes), 0) AS bytes FROM events WHERE wall = ? AND seq <= ?',
    ),
    // Both by the index walls_by_activity: a page costs its rows, whatever the number of walls.
    walls: db.prepare(
      'SELECT wall, last_seq AS lastSeq, last_ms AS atMs FROM walls WHERE rows > 0 ORDER BY last_ms DESC, wall DESC LIMIT ?',
    ),
    wallsAfter: db.prepare(
      `SELECT wall, last_seq AS lastSeq, last_ms AS atMs FROM walls
       WHERE rows > 0 AND (last_ms, wall) < (?, ?) ORDER BY last_ms DESC, wall DESC LIMIT ?`,
    ),
    probe: db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('ready_probe', ?)"),
  };
}
