/**
 * Opening the SQLite store's file: its directory, the lock that keeps it to
 * one process, the pragmas, the schema, and the one line a person can act
 * on when any of it fails (a StoreOpenError).
 */
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { StoreOpenError } from '../store.js';
import { migrate, SCHEMA_VERSION, schemaVersion } from './schema.js';

export interface DatabaseFile {
  db: Database.Database;
  /** Held for the life of the store; undefined for `:memory:`. */
  lock: Database.Database | undefined;
}

/**
 * Opens (creating it and its directory when missing) the database at
 * `path`, brought to the newest schema.
 *
 * One process per file, enforced: a sidecar `{path}.lock` database is held
 * in an exclusive lock until `lock` is closed (the OS releases it when the
 * process dies, even by SIGKILL), so a second process refuses to start
 * instead of failing every post.
 */
export function openDatabaseFile(path: string): DatabaseFile {
  const inMemory = path === ':memory:';
  if (!inMemory) {
    ensureDirectory(dirname(resolve(path)));
    assertWritable(path);
  }
  const lock = inMemory ? undefined : holdLock(`${path}.lock`);
  try {
    return { db: openDatabase(path), lock };
  } catch (error) {
    lock?.close();
    throw error;
  }
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

/** WAL, and a commit that survives a power cut (`synchronous=FULL`): an answered post is on disk. */
function openDatabase(path: string): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    const version = schemaVersion(db);
    if (version > SCHEMA_VERSION) {
      throw new StoreOpenError(
        `${path} is the database of a newer wallcast (schema ${version}; this one reads up to ${SCHEMA_VERSION})`,
      );
    }
    migrate(db);
    return db;
  } catch (error) {
    db?.close();
    throw describe(error, path);
  }
}

/** One line a person can act on, from what the file system or SQLite said. */
function describe(error: unknown, path: string, doing?: string): StoreOpenError {
  if (error instanceof StoreOpenError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code ?? '';
  if (doing !== undefined) return new StoreOpenError(`${doing} ${path} (${detail})`, { cause: error });
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new StoreOpenError(`${path} is not a wallcast database, or it is corrupt (${detail})`, { cause: error });
  }
  if (code === 'SQLITE_READONLY') return new StoreOpenError(`${path} is read-only (${detail})`, { cause: error });
  return new StoreOpenError(`cannot open ${path} (${detail})`, { cause: error });
}
