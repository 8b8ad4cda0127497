/**
 * The contract between the presence tracker and the place where each
 * process's people are joined into one number per wall (issue 17).
 *
 * The tracker (presence-tracker.ts) turns streams into people on this
 * process: it counts a person's streams, keeps a person in grace after
 * their last stream leaves, and rate-limits what watchers hear. What it
 * tells a share is only "this process now holds person K on wall W" and
 * "no longer". The share answers with the wall's view over every process:
 *
 * - `online` is the number of distinct person keys held on the wall by any
 *   live process. Two processes holding the same key (one browser's client
 *   id, one token `sub`) count it once.
 * - `members`, when the view was asked for members, is the first
 *   MAX_LISTED_MEMBERS held keys that are members, in order of arrival (the
 *   time the first process took the key, kept while any process holds it),
 *   and `memberCount` all of them. People without an identity are never
 *   listed.
 *
 * A process that dies without a word stops counting within the share's
 * expiry; one that closes keeps what it held for `keepMs` (the grace), so
 * that people who follow a restarting process to another, or to its next
 * start, are never counted out and in.
 *
 * Everything a share does for the tracker is best-effort: `hold`,
 * `release` and `follow` return at once and never throw; a share that
 * cannot reach its backend keeps its last view and catches up when it can.
 * Only `read` (for `GET /presence` on a wall this process does not follow)
 * may fail.
 *
 * Implementations: MemoryPresenceShare (one process: the memory and SQLite
 * stores) and RedisPresenceShare (any number of processes on one Redis).
 */
import type { Member } from './person.js';

/**
 * Members listed in a snapshot (issue 17): enough for a room's "who is
 * here", and a bound on what each change sends to every members stream.
 * The rest are counted in `more`.
 */
export const MAX_LISTED_MEMBERS = 100;

/** What a wall's followers need of its view: the count, or the count and members. */
export type PresenceNeed = 'count' | 'members';

export interface SharedView {
  readonly online: number;
  /** With need `members`: the first MAX_LISTED_MEMBERS members by arrival. */
  readonly members?: readonly Member[];
  /** With need `members`: all members held on the wall. */
  readonly memberCount?: number;
}

export interface PresenceShare {
  /**
   * Whether what this process holds outlives it (Redis keeps it for the
   * grace after a close, or until its expiry after a crash). A share that
   * does not loses everyone at a restart, so the tracker waits a grace
   * period after starting before it reports counts.
   */
  readonly outlivesProcess: boolean;
  /** Called with a wall whose view may have changed (only for followed walls, and for any wall in memory). */
  onChange(listener: (wall: string) => void): void;
  /** This process holds `key` on `wall` (again: `member` may carry a new name). */
  hold(wall: string, key: string, member: Member | undefined): void;
  /** This process no longer holds `key` on `wall`. */
  release(wall: string, key: string): void;
  /** Keep the wall's view current with `need`, or stop (`undefined`). */
  follow(wall: string, need: PresenceNeed | undefined): void;
  /** The wall's view as last known; undefined while it is not known yet (or the wall is not followed with `need`). */
  view(wall: string, need: PresenceNeed): SharedView | undefined;
  /** The wall's view read now, for a wall this process may not follow. */
  read(wall: string, need: PresenceNeed): Promise<SharedView>;
  /** Walls the share holds state for (bounded: walls with people here or followed). */
  stats(): { walls: number };
  /** Stops; what this process held stays counted for `keepMs` (then expires), except what it released. */
  close(keepMs: number): Promise<void>;
}
