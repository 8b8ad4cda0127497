/**
 * Who is here (issue 17): the people on each wall, not the connections,
 * without flapping, at a bounded cost whatever the churn.
 *
 * - A stream joins a wall as a person (person.ts): streams of one person
 *   key on a wall count once. The tracker counts the person's streams on
 *   this process and tells the share (presence-share.ts) only when the
 *   person arrives here or is gone from here, so a person's tenth tab costs
 *   an increment.
 * - Grace: when a person's last stream leaves, the person stays for
 *   `graceMs`; a stream of the same key that comes back within it changes
 *   nothing (a network blip, a server restart, a tab handing the shared
 *   stream to another tab). A person who is only a stream (no client id, no
 *   token) leaves at once: such a stream can never come back as itself, so
 *   grace would only count each reconnect twice (a reconnect storm of N
 *   anonymous streams would read 2N for the whole grace).
 * - Grace expiries are one FIFO, since every person gets the same grace: the
 *   oldest is always first, so one timer serves them all (as the hub's
 *   heartbeat sweep does), and a return within grace is one Map delete.
 *   `maxGraced` bounds it, and `maxPeoplePerWall` (the stream cap) a wall's
 *   people: a client looping with fresh client ids cannot inflate a wall's
 *   count past the streams the server accepts.
 * - Watchers hear a wall's snapshot when it changes, at most once per
 *   `emitWindowMs`: the first change opens a window and the snapshot goes
 *   out when it closes (trailing edge), so every change within it is joined
 *   and a blip shorter than the window is never heard at all. A snapshot
 *   equal to the last one sent is not sent. The first snapshot a wall's
 *   watchers get, once its view is known, goes out at once.
 * - Settling: on a share that does not outlive the process (memory, one
 *   instance), a restarted server knows nobody until they reconnect. For
 *   `settleMs` after the start the tracker reports no snapshot (`current` is
 *   undefined, watchers hear nothing), so a page keeps the number it had
 *   instead of seeing it fall and climb back; then it reports what is there.
 * - Bounded: a wall with no streams, no one in grace and no watcher has no
 *   entry and no timer here.
 */
import { nanoid } from 'nanoid';
import type { Logger } from 'pino';
import type { Member, Person } from './person.js';
import type { PresenceNeed, PresenceShare } from './presence-share.js';
import { type PresenceSnapshot, sameSnapshot, snapshotOf } from './presence-snapshot.js';

/** Issue 17: a person who reconnects within this is never counted out and in. */
export const DEFAULT_GRACE_MS = 10_000;
/** Issue 17: at most one presence event per second per wall. */
export const EMIT_WINDOW_MS = 1000;
/**
 * People held in grace at once, over every wall of this process; past it
 * the one longest in grace leaves early. Without a bound, a client cycling
 * fresh client ids adds a person per connection for the whole grace; with
 * it, the count is inflated by at most this many. The lead sets it to the
 * stream cap when there is one. A person in grace takes about 200 bytes.
 */
export const MAX_GRACED = 10_000;
/** Grace expiries are swept at most this often (a person leaves up to this late). */
const GRACE_SWEEP_MS = 100;

export interface PresenceTrackerOptions {
  share: PresenceShare;
  /** How long a person stays counted after their last stream leaves. Default 10 000 (DEFAULT_GRACE_MS). */
  graceMs?: number;
  /** Watchers hear a wall at most once per this. Default 1000 (EMIT_WINDOW_MS). */
  emitWindowMs?: number;
  /** Nothing is reported for this long after the start. Default: `graceMs` if the share does not outlive the process, else 0. */
  settleMs?: number;
  /** People in grace at once, over all walls. Default 10 000 (MAX_GRACED). */
  maxGraced?: number;
  /** People on one wall, in grace or not; past it the wall's longest gone leaves early. Default: no bound. */
  maxPeoplePerWall?: number;
  /** Where a watcher's thrown error is logged. */
  log?: Logger;
}

export interface PresenceHandle {
  /** The stream is gone (idempotent). */
  leave(): void;
}

interface LocalPerson {
  readonly wall: WallPresence;
  readonly key: string;
  member: Member | undefined;
  /** Open streams of the person on this wall, on this process. */
  streams: number;
  /** Whether the person is kept through a grace period (not for a stream-only person). */
  readonly graced: boolean;
}

interface Watcher {
  readonly members: boolean;
  readonly listener: (snapshot: PresenceSnapshot) => void;
}

interface WallPresence {
  readonly wall: string;
  readonly people: Map<string, LocalPerson>;
  /** Its people in grace, oldest first (a subset of the tracker's FIFO, in its order). */
  readonly graced: Set<LocalPerson>;
  readonly watchers: Set<Watcher>;
  memberWatchers: number;
  /** What the count watchers and the members watchers last heard (or were taken to know). */
  sentOnline: number | undefined;
  sentMembers: PresenceSnapshot | undefined;
  /** The open emission window. */
  timer: NodeJS.Timeout | undefined;
}

class Handle implements PresenceHandle {
  #person: LocalPerson | undefined;
  constructor(
    person: LocalPerson,
    private readonly release: (person: LocalPerson) => void,
  ) {
    this.#person = person;
  }

  leave(): void {
    const person = this.#person;
    this.#person = undefined;
    if (person !== undefined) this.release(person);
  }
}

const NOTHING: PresenceHandle = { leave() {} };

export class PresenceTracker {
  readonly graceMs: number;
  readonly emitWindowMs: number;
  readonly maxGraced: number;
  readonly maxPeoplePerWall: number;
  readonly #share: PresenceShare;
  readonly #log: Logger | undefined;
  readonly #walls = new Map<string, WallPresence>();
  /** People in grace → when it ends (performance.now()), oldest first: the same grace for all keeps the order. */
  readonly #graced = new Map<LocalPerson, number>();
  #sweep: NodeJS.Timeout | undefined;
  #settle: NodeJS.Timeout | undefined;
  #settling: boolean;
  #closed = false;
  #people = 0;
  /** Stream-only persons: a tag of this tracker and a counter, unique among every process on one Redis. */
  readonly #streamTag = `s:${nanoid(10)}:`;
  #streamCount = 0;
  readonly #release = (person: LocalPerson) => this.#leave(person);

  constructor(options: PresenceTrackerOptions) {
    this.#share = options.share;
    this.#log = options.log;
    this.graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    this.emitWindowMs = options.emitWindowMs ?? EMIT_WINDOW_MS;
    this.maxGraced = options.maxGraced ?? MAX_GRACED;
    this.maxPeoplePerWall = options.maxPeoplePerWall ?? Number.POSITIVE_INFINITY;
    const settleMs = options.settleMs ?? (this.#share.outlivesProcess ? 0 : this.graceMs);
    this.#settling = settleMs > 0;
    if (this.#settling) this.#settle = setTimeout(() => this.#settled(), settleMs).unref();
    this.#share.onChange((wall) => this.#changed(wall));
  }

  /** A stream joins `wall` as `person` (person.ts); the handle's `leave` when the stream ends. O(1). */
  join(wall: string, person: Person): PresenceHandle {
    if (this.#closed) return NOTHING;
    const state = this.#wallOf(wall);
    const key = person.kind === 'stream' ? this.#streamTag + (this.#streamCount++).toString(36) : person.key;
    const member = person.kind === 'member' ? person.member : undefined;
    let local = state.people.get(key);
    if (local === undefined) {
      local = { wall: state, key, member, streams: 1, graced: person.kind !== 'stream' };
      state.people.set(key, local);
      this.#people++;
      this.#share.hold(wall, key, member);
      // Live people never pass the stream cap: past the bound, one in grace makes room (the wall keeps a person).
      const [oldest] = state.graced;
      if (oldest !== undefined && state.people.size > this.maxPeoplePerWall) this.#expire(oldest);
    } else {
      // Back within the grace: nothing changes for anyone.
      if (local.streams++ === 0) {
        this.#graced.delete(local);
        state.graced.delete(local);
      }
      if (member !== undefined && member.name !== local.member?.name) {
        local.member = member;
        this.#share.hold(wall, key, member);
      }
    }
    return new Handle(local, this.#release);
  }

  /**
   * `listener` hears `wall`'s snapshot when it changes, at most once per
   * `emitWindowMs`, with the members when `members` is set. Not called at
   * once: a stream going live takes `current`. Returns the unwatch.
   */
  watch(wall: string, options: { members: boolean }, listener: (snapshot: PresenceSnapshot) => void): () => void {
    if (this.#closed) return () => {};
    const state = this.#wallOf(wall);
    const before = needOf(state);
    const watcher: Watcher = { members: options.members, listener };
    state.watchers.add(watcher);
    if (watcher.members) state.memberWatchers++;
    const need = needOf(state) as PresenceNeed;
    if (need !== before) this.#share.follow(wall, need);
    // What a stream going live now gets from `current` is what the watchers are taken to know.
    const view = this.#settling ? undefined : this.#share.view(wall, need);
    if (view !== undefined) {
      if (!watcher.members && state.sentOnline === undefined) state.sentOnline = view.online;
      if (watcher.members && state.sentMembers === undefined) state.sentMembers = snapshotOf(wall, view, true);
    }
    let watching = true;
    return () => {
      if (!watching || state.watchers !== this.#walls.get(wall)?.watchers) return;
      watching = false;
      state.watchers.delete(watcher);
      if (watcher.members) state.memberWatchers--;
      const after = needOf(state);
      if (after !== need) this.#share.follow(wall, after);
      if (after !== 'members') state.sentMembers = undefined;
      if (state.watchers.size === state.memberWatchers) state.sentOnline = undefined;
      if (after === undefined) {
        clearTimeout(state.timer);
        state.timer = undefined;
      }
      this.#forgetIfIdle(state);
    };
  }

  /**
   * The wall's snapshot as known now, for a stream going live: undefined
   * while settling, or (on Redis) before the wall's view has been read or
   * when the wall is not watched with `members`; the watchers then hear it
   * as soon as it is known.
   */
  current(wall: string, options: { members: boolean }): PresenceSnapshot | undefined {
    if (this.#settling || this.#closed) return undefined;
    const view = this.#share.view(wall, options.members ? 'members' : 'count');
    return view === undefined ? undefined : snapshotOf(wall, view, options.members);
  }

  /**
   * The wall's snapshot for `GET /presence`: the known one, else read from
   * the share (while settling: the people back so far). Rejects only when
   * the share cannot answer (Redis down: a StoreUnavailableError).
   */
  async snapshot(wall: string, options: { members: boolean }): Promise<PresenceSnapshot> {
    const known = this.current(wall, options);
    if (known !== undefined) return known;
    return snapshotOf(wall, await this.#share.read(wall, options.members ? 'members' : 'count'), options.members);
  }

  stats(): { walls: number; people: number; graced: number; timers: number } {
    let timers = (this.#sweep === undefined ? 0 : 1) + (this.#settle === undefined ? 0 : 1);
    for (const state of this.#walls.values()) if (state.timer !== undefined) timers++;
    return { walls: this.#walls.size, people: this.#people, graced: this.#graced.size, timers };
  }

  /**
   * Stops. Stream-only persons leave at once; everyone else stays held for
   * the grace (on Redis, by the other instances, until it ends), so a
   * restart within it does not flap. Handles left afterwards do nothing.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#sweep);
    clearTimeout(this.#settle);
    this.#sweep = this.#settle = undefined;
    for (const state of this.#walls.values()) {
      clearTimeout(state.timer);
      for (const person of state.people.values()) if (!person.graced) this.#share.release(state.wall, person.key);
    }
    this.#walls.clear();
    this.#graced.clear();
    this.#people = 0;
    await this.#share.close(this.graceMs);
  }

  #wallOf(wall: string): WallPresence {
    let state = this.#walls.get(wall);
    if (state === undefined) {
      state = {
        wall,
        people: new Map(),
        graced: new Set(),
        watchers: new Set(),
        memberWatchers: 0,
        sentOnline: undefined,
        sentMembers: undefined,
        timer: undefined,
      };
      this.#walls.set(wall, state);
    }
    return state;
  }

  #leave(person: LocalPerson): void {
    if (this.#closed || --person.streams > 0) return;
    if (!person.graced || this.graceMs <= 0) {
      this.#drop(person);
      return;
    }
    this.#graced.set(person, performance.now() + this.graceMs);
    person.wall.graced.add(person);
    if (this.#graced.size > this.maxGraced) {
      const [oldest] = this.#graced.keys();
      if (oldest !== undefined) this.#expire(oldest);
    }
    if (this.#sweep === undefined) this.#scheduleSweep();
  }

  #expire(person: LocalPerson): void {
    this.#graced.delete(person);
    person.wall.graced.delete(person);
    this.#drop(person);
  }

  #drop(person: LocalPerson): void {
    const state = person.wall;
    state.people.delete(person.key);
    this.#people--;
    this.#share.release(state.wall, person.key);
    this.#forgetIfIdle(state);
  }

  #forgetIfIdle(state: WallPresence): void {
    if (state.people.size > 0 || state.watchers.size > 0) return;
    clearTimeout(state.timer);
    if (this.#walls.get(state.wall) === state) this.#walls.delete(state.wall);
  }

  #scheduleSweep(): void {
    const [first] = this.#graced.values();
    if (first === undefined) return;
    const delayMs = Math.max(GRACE_SWEEP_MS, first - performance.now());
    this.#sweep = setTimeout(() => this.#sweepGrace(), delayMs);
    this.#sweep.unref();
  }

  #sweepGrace(): void {
    this.#sweep = undefined;
    const nowMs = performance.now();
    for (const [person, endsMs] of this.#graced) {
      if (endsMs > nowMs) break;
      this.#expire(person);
    }
    this.#scheduleSweep();
  }

  /** The share says the wall's view may have changed: open an emission window unless one is open. */
  #changed(wall: string): void {
    const state = this.#walls.get(wall);
    if (state === undefined || state.watchers.size === 0 || state.timer !== undefined || this.#settling) return;
    const countWatchers = state.watchers.size - state.memberWatchers;
    const firstReport =
      (countWatchers > 0 && state.sentOnline === undefined) ||
      (state.memberWatchers > 0 && state.sentMembers === undefined);
    state.timer = setTimeout(() => this.#emit(state), firstReport ? 0 : this.emitWindowMs);
    state.timer.unref();
  }

  #emit(state: WallPresence): void {
    state.timer = undefined;
    const need = needOf(state);
    if (need === undefined || this.#closed) return;
    const view = this.#share.view(state.wall, need);
    if (view === undefined) return;
    if (state.watchers.size > state.memberWatchers && view.online !== state.sentOnline) {
      state.sentOnline = view.online;
      this.#tell(state, false, { wall: state.wall, online: view.online });
    }
    if (state.memberWatchers > 0 && view.members !== undefined) {
      const snapshot = snapshotOf(state.wall, view, true);
      if (!sameSnapshot(snapshot, state.sentMembers)) {
        state.sentMembers = snapshot;
        this.#tell(state, true, snapshot);
      }
    }
  }

  #tell(state: WallPresence, members: boolean, snapshot: PresenceSnapshot): void {
    for (const watcher of state.watchers) {
      if (watcher.members !== members) continue;
      try {
        watcher.listener(snapshot);
      } catch (error) {
        this.#log?.error({ err: error, wall: state.wall }, 'presence: a watcher threw');
      }
    }
  }

  #settled(): void {
    this.#settle = undefined;
    this.#settling = false;
    for (const wall of this.#walls.keys()) this.#changed(wall);
  }
}

function needOf(state: WallPresence): PresenceNeed | undefined {
  if (state.memberWatchers > 0) return 'members';
  return state.watchers.size > 0 ? 'count' : undefined;
}
