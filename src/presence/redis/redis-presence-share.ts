import type { ChainableCommander, Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import { settlesWithin } from '../../settles-within.js';
import { StoreUnavailableError } from '../../store/store.js';
import type { Member } from '../person.js';
import { MAX_LISTED_MEMBERS, type PresenceNeed, type PresenceShare, type SharedView } from '../presence-share.js';
import { EMIT_WINDOW_MS } from '../presence-tracker.js';
import { pipelineGroups } from './pipeline-groups.js';
import { PRESENCE_KEY_PARTS, PRESENCE_SCRIPT, type PresenceKeyPart, type PresenceReply } from './presence-script.js';

/** Issue 17: a killed instance stops counting within this. */
export const DEFAULT_EXPIRY_MS = 15_000;
/**
 * How often a followed wall's version is checked: a change elsewhere is in
 * this process's view within this (plus TICK_MS), and watchers hear it
 * within a window more, inside issue 17's 2 s.
 */
export const DEFAULT_POLL_MS = 500;
/** What this process changed is sent within this, joined into one call per wall: never a round trip per stream. */
const TICK_MS = 100;
/**
 * What the lease leaves of the expiry beyond a poll, a tick and a window:
 * the round trips, the event written to the streams, and timers late on a
 * busy process. Without it a process killed just after renewing was heard
 * gone 14.6–14.8 s later on an idle machine (test/e2e/presence-redis.test.ts),
 * 15.1 s at worst before any delay.
 */
const LEASE_MARGIN_MS = 500;
/** How long `close` waits for its last calls (and one in flight) before it lets go of them. */
const CLOSE_WAIT_MS = 1000;
/** How long `read` tells a client to wait while Redis does not answer. */
const RETRY_AFTER_SECONDS = 2;
const INSTANCE_ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface RedisPresenceShareOptions {
  /**
   * The connection, made with `enableOfflineQueue: false` and a
   * `commandTimeout` (as the store's), so that a Redis that does not answer
   * fails a call at once instead of queueing it: to one Redis, or to a
   * cluster. Not closed by the share.
   */
  redis: Redis | Cluster;
  /** The key of one part of a wall's presence; all parts of a wall must hash to one slot. See `presenceKeyOf`. */
  keyOf: (wall: string, part: PresenceKeyPart) => string;
  /** This process among the instances: a fresh one at every start (`nanoid()`), 1–64 of `A-Z a-z 0-9 _ -`. */
  instanceId: string;
  /** A killed instance stops being counted in every view within this. Default 15 000 (DEFAULT_EXPIRY_MS). */
  expiryMs?: number;
  /** Default 500 (DEFAULT_POLL_MS). */
  pollMs?: number;
  /** The tracker's emission window, which the expiry leaves room for. Default 1000 (EMIT_WINDOW_MS). */
  emitWindowMs?: number;
  log: Logger;
}

/** Today's key scheme, beside the wall's messages: `{prefix}{wall}:presence:{part}`. */
export function presenceKeyOf(prefix: string): (wall: string, part: PresenceKeyPart) => string {
  return (wall, part) => `${prefix}{${wall}}:presence:${part}`;
}

interface SharedWall {
  readonly wall: string;
  readonly keys: readonly string[];
  /** Whom this process holds on the wall (what Redis must hold of it). */
  readonly held: Map<string, Member | undefined>;
  /** Keys held or released since the last call. */
  pending: Set<string>;
  /** Whether Redis holds `held` but `pending`; if not, the next call sends everything (a wall's first call too). */
  synced: boolean;
  /** Whether the last call left this process registered on the wall (it held someone). */
  registered: boolean;
  need: PresenceNeed | undefined;
  view: SharedView | undefined;
  version: string;
  renewAtMs: number;
  lastOkMs: number;
}

interface Call {
  readonly wall: SharedWall;
  readonly holds: boolean;
  readonly need: PresenceNeed | undefined;
}

type PresenceCommand = (...keysThenArgs: (string | number)[]) => Promise<PresenceReply>;

/**
 * Every instance's people joined in Redis (presence-script.ts has the
 * keys). Calls go out at most every TICK_MS, one per wall that has
 * something to say, all in one pipeline: what was held or released, the
 * lease renewal (every third of the lease), and for followed walls the
 * version check, which brings the view only when the version moved.
 *
 * On a cluster (issue 19) a pipeline must stay on one node, and each
 * wall's keys are in a slot of their own: the calls are sent as one
 * pipeline per node, as the client's slot map places the walls. A call that
 * meets a slot moved meanwhile fails like any failed call (the next one
 * sends everything), and the slot map is read again.
 *
 * Timing: the lease is `expiryMs - pollMs - TICK_MS - emitWindowMs -
 * LEASE_MARGIN_MS`, so that a process killed just after renewing is reaped
 * by the next poll after its lease (a poll waits for a tick) and heard by
 * watchers within the window: gone within `expiryMs`.
 */
export class RedisPresenceShare implements PresenceShare {
  readonly outlivesProcess = true;
  readonly expiryMs: number;
  readonly pollMs: number;
  readonly leaseMs: number;
  readonly #renewMs: number;
  readonly #redis: (Redis | Cluster) & { wallPresence: PresenceCommand };
  readonly #keyOf: (wall: string, part: PresenceKeyPart) => string;
  readonly #instanceId: string;
  readonly #log: Logger;
  readonly #walls = new Map<string, SharedWall>();
  readonly #dirty = new Set<SharedWall>();
  #timer: NodeJS.Timeout | undefined;
  #nextPollMs = 0;
  #inFlight: Promise<void> | undefined;
  #listener: ((wall: string) => void) | undefined;
  #down = false;
  #closed = false;

  constructor(options: RedisPresenceShareOptions) {
    if (!INSTANCE_ID.test(options.instanceId)) throw new RangeError(`not an instance id: ${options.instanceId}`);
    this.expiryMs = options.expiryMs ?? DEFAULT_EXPIRY_MS;
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    const windowMs = options.emitWindowMs ?? EMIT_WINDOW_MS;
    this.leaseMs = this.expiryMs - this.pollMs - TICK_MS - windowMs - LEASE_MARGIN_MS;
    if (this.leaseMs < 3 * TICK_MS) throw new RangeError(`expiryMs ${this.expiryMs} leaves no time for a lease`);
    this.#renewMs = Math.floor(this.leaseMs / 3);
    this.#redis = options.redis as (Redis | Cluster) & { wallPresence: PresenceCommand };
    this.#redis.defineCommand('wallPresence', { numberOfKeys: PRESENCE_KEY_PARTS.length, lua: PRESENCE_SCRIPT });
    this.#keyOf = options.keyOf;
    this.#instanceId = options.instanceId;
    this.#log = options.log;
  }

  onChange(listener: (wall: string) => void): void {
    this.#listener = listener;
  }

  hold(wall: string, key: string, member: Member | undefined): void {
    if (this.#closed) return;
    const shared = this.#wallOf(wall);
    shared.held.set(key, member);
    shared.pending.add(key);
    this.#dirty.add(shared);
  }

  release(wall: string, key: string): void {
    const shared = this.#walls.get(wall);
    if (shared === undefined || !shared.held.delete(key)) return;
    shared.pending.add(key);
    this.#dirty.add(shared);
  }

  follow(wall: string, need: PresenceNeed | undefined): void {
    if (this.#closed) return;
    if (need === undefined) {
      const shared = this.#walls.get(wall);
      if (shared === undefined) return;
      shared.need = undefined;
      shared.view = undefined;
      shared.version = '';
      return;
    }
    const shared = this.#wallOf(wall);
    if (shared.need === need) return;
    // Members were not read for a count: read the view again whatever the version.
    if (need === 'members') shared.version = '';
    shared.need = need;
    this.#dirty.add(shared);
  }

  view(wall: string, need: PresenceNeed): SharedView | undefined {
    const view = this.#walls.get(wall)?.view;
    return need === 'members' && view?.members === undefined ? undefined : view;
  }

  async read(wall: string, need: PresenceNeed): Promise<SharedView> {
    const keys = PRESENCE_KEY_PARTS.map((part) => this.#keyOf(wall, part));
    const limit = need === 'members' ? MAX_LISTED_MEMBERS : 0;
    try {
      return viewOf(await this.#redis.wallPresence(...keys, this.#instanceId, 0, 'read', 0, '', limit), need);
    } catch (error) {
      throw new StoreUnavailableError('Redis did not answer the presence read.', {
        cause: error,
        retryAfterSeconds: RETRY_AFTER_SECONDS,
      });
    }
  }

  stats(): { walls: number } {
    return { walls: this.#walls.size };
  }

  /**
   * One last call per wall: what this process still holds stays counted
   * for `keepMs` (the grace), then is reaped, unless another process holds
   * the same people by then. Errors are ignored: the lease ends anyway. So
   * is a Redis that does not answer within CLOSE_WAIT_MS (issue 19: a
   * shutdown ends whatever Redis does).
   */
  async close(keepMs: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await settlesWithin(this.#sayGoodbye(keepMs), CLOSE_WAIT_MS);
    this.#walls.clear();
    this.#dirty.clear();
    this.#listener = undefined;
  }

  async #sayGoodbye(keepMs: number): Promise<void> {
    await this.#inFlight;
    const last: SharedWall[] = [];
    for (const shared of this.#walls.values()) {
      if (shared.held.size === 0 && shared.pending.size === 0 && shared.synced && !shared.registered) continue;
      shared.need = undefined;
      last.push(shared);
    }
    await Promise.all(
      this.#byNode(last).map((walls) => {
        const pipeline = this.#redis.pipeline();
        for (const shared of walls) this.#queue(pipeline, shared, Math.max(keepMs, 1));
        return pipeline.exec().catch(() => undefined);
      }),
    );
  }

  #wallOf(wall: string): SharedWall {
    let shared = this.#walls.get(wall);
    if (shared === undefined) {
      shared = {
        wall,
        keys: PRESENCE_KEY_PARTS.map((part) => this.#keyOf(wall, part)),
        held: new Map(),
        pending: new Set(),
        synced: false,
        registered: false,
        need: undefined,
        view: undefined,
        version: '',
        renewAtMs: 0,
        lastOkMs: Date.now(),
      };
      this.#walls.set(wall, shared);
      if (this.#timer === undefined) {
        this.#timer = setInterval(() => this.#tick(), TICK_MS);
        this.#timer.unref();
      }
    }
    return shared;
  }

  #tick(): void {
    if (this.#inFlight !== undefined) return;
    const nowMs = Date.now();
    let due: Iterable<SharedWall> = this.#dirty;
    if (nowMs >= this.#nextPollMs) {
      this.#nextPollMs = nowMs + this.pollMs;
      due = this.#walls.values();
    }
    const walls: SharedWall[] = [];
    for (const shared of due) {
      if (this.#forgetIfIdle(shared, nowMs)) continue;
      const renew = shared.registered && nowMs >= shared.renewAtMs;
      if (shared.need !== undefined || shared.pending.size > 0 || !shared.synced || renew) walls.push(shared);
    }
    this.#dirty.clear();
    // Most ticks have nothing to send, and an ioredis pipeline is not free to build.
    if (walls.length === 0) return;
    this.#inFlight = Promise.all(this.#byNode(walls).map((group) => this.#send(group))).then(() => {
      this.#inFlight = undefined;
    });
  }

  /** One pipeline of calls, each settled with its reply. */
  async #send(walls: SharedWall[]): Promise<void> {
    const pipeline = this.#redis.pipeline();
    const calls = walls.map((shared) => this.#queue(pipeline, shared, this.leaseMs));
    let results: [unknown, unknown][];
    try {
      results = (await pipeline.exec()) ?? [];
    } catch (error) {
      results = calls.map(() => [error, null]);
    }
    for (const [i, call] of calls.entries()) this.#settle(call, results[i] ?? [new Error('no reply'), null]);
  }

  /** The walls in groups that one pipeline may carry (pipeline-groups.ts). */
  #byNode(walls: SharedWall[]): SharedWall[][] {
    return pipelineGroups(this.#redis, walls, (shared) => shared.keys[0] as string);
  }

  #queue(pipeline: ChainableCommander, shared: SharedWall, leaseMs: number): Call {
    const full = !shared.synced;
    const limit = shared.need === undefined ? -1 : shared.need === 'members' ? MAX_LISTED_MEMBERS : 0;
    const args: (string | number)[] = [
      ...shared.keys,
      this.#instanceId,
      leaseMs,
      full ? 'full' : 'delta',
      shared.registered ? 1 : 0,
      shared.view === undefined ? '' : shared.version,
      limit,
    ];
    for (const key of full ? shared.held.keys() : shared.pending) {
      if (!shared.held.has(key)) args.push('-', key, '');
      else {
        const member = shared.held.get(key);
        args.push('+', key, member === undefined ? '' : JSON.stringify(member));
      }
    }
    shared.pending = new Set();
    (pipeline as ChainableCommander & { wallPresence: (...a: (string | number)[]) => unknown }).wallPresence(...args);
    return { wall: shared, holds: shared.held.size > 0, need: shared.need };
  }

  #settle(call: Call, [error, reply]: [unknown, unknown]): void {
    const shared = call.wall;
    if (error !== null && error !== undefined) {
      // Whatever it did or did not do, the next call sends everything.
      shared.synced = false;
      // A slot that moved (a failover): the next tick groups by the new map.
      if (this.#redis.isCluster && /^(MOVED|ASK) /.test(String((error as Error).message))) {
        (this.#redis as Cluster).refreshSlotsCache();
      }
      if (!this.#down) {
        this.#down = true;
        this.#log.warn({ err: error }, 'redis: presence not shared; counts keep their last value until it is back');
      }
      return;
    }
    if (this.#down) {
      this.#down = false;
      this.#log.info('redis: presence shared again');
    }
    const answer = reply as PresenceReply;
    if (answer[0] === 'resync') {
      shared.synced = shared.registered = false;
      this.#dirty.add(shared);
      return;
    }
    const nowMs = Date.now();
    shared.synced = true;
    shared.registered = call.holds;
    shared.renewAtMs = nowMs + this.#renewMs;
    shared.lastOkMs = nowMs;
    // A view read for another need than the wall's now is not its view.
    if (answer[0] === 'view' && call.need !== undefined && call.need === shared.need) {
      // An empty wall has no version (''): its view is read at each poll, and changed only the first time.
      const moved =
        shared.view === undefined ||
        answer[1] !== shared.version ||
        (call.need === 'members' && shared.view.members === undefined);
      shared.version = answer[1];
      shared.view = viewOf(answer, call.need);
      if (moved) this.#listener?.(shared.wall);
    }
  }

  /**
   * Drops a wall nobody here is on and nobody follows, once Redis agrees
   * (or once the lease of whatever it may still hold of ours has ended).
   */
  #forgetIfIdle(shared: SharedWall, nowMs: number): boolean {
    if (shared.need !== undefined || shared.held.size > 0 || shared.pending.size > 0) return false;
    if (!(shared.synced && !shared.registered) && nowMs - shared.lastOkMs <= this.leaseMs) return false;
    this.#walls.delete(shared.wall);
    this.#dirty.delete(shared);
    if (this.#walls.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
    return true;
  }
}

function viewOf(reply: PresenceReply, need: PresenceNeed): SharedView {
  if (reply[0] !== 'view') throw new Error(`unexpected presence reply ${reply[0]}`);
  const [, , online, memberCount, ...listed] = reply;
  if (need === 'count') return { online };
  return { online, memberCount, members: listed.map((json) => JSON.parse(json) as Member) };
}
