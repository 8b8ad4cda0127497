/**
 * Presence over every worker of one machine (issue 17 with issue 20): the
 * primary joins what each worker holds into one view per wall, in a
 * MemoryPresenceShare, with a count of the workers holding each person
 * (the same browser on two workers counts once), and pushes each followed
 * wall's view to its followers once per turn of its loop when it changed.
 *
 * A worker that exits keeps what it held for the grace (its clients
 * reconnect to the others meanwhile), then it is released.
 */
import type { Worker } from 'node:cluster';
import { MemoryPresenceShare } from '../presence/memory-presence-share.js';
import type { Member } from '../presence/person.js';
import type { PresenceNeed, SharedView } from '../presence/presence-share.js';
import { type PresenceOp, sendToWorker } from './protocol.js';

export class MachinePresence {
  readonly #share = new MemoryPresenceShare();
  /** `${wall}\n${key}` → how many workers hold it (the member itself is the share's). */
  readonly #held = new Map<string, number>();
  /** What each worker holds, to let go of when it exits. */
  readonly #byWorker = new Map<Worker, Set<string>>();
  /** Walls followed, by worker, with what each needs. */
  readonly #followers = new Map<string, Map<Worker, PresenceNeed>>();
  #changed = new Set<string>();

  constructor(private readonly graceMs: number) {
    this.#share.onChange((wall) => {
      if (!this.#followers.has(wall)) return;
      if (this.#changed.size === 0) setImmediate(() => this.#push());
      this.#changed.add(wall);
    });
  }

  /** A worker's batch of presence changes. */
  apply(worker: Worker, ops: readonly PresenceOp[]): void {
    for (const op of ops) {
      if (op[0] === 'hold') this.#hold(worker, op[1], op[2], op[3] ?? undefined);
      else if (op[0] === 'release') this.#release(worker, op[1], op[2]);
      else this.#follow(worker, op[1], op[2] ?? undefined);
    }
  }

  /** A wall's view now (`GET /presence` on a wall the worker does not follow). */
  read(wall: string, need: PresenceNeed): SharedView {
    return this.#share.view(wall, need);
  }

  /** The worker is gone: it follows nothing; what it held goes after the grace (clients reconnect elsewhere meanwhile). */
  forget(worker: Worker): void {
    for (const [wall, followers] of this.#followers) {
      if (followers.delete(worker) && followers.size === 0) this.#followers.delete(wall);
    }
    const held = this.#byWorker.get(worker);
    this.#byWorker.delete(worker);
    if (held === undefined) return;
    setTimeout(() => {
      for (const entry of held) {
        const at = entry.indexOf('\n');
        this.#drop(entry.slice(0, at), entry.slice(at + 1));
      }
    }, this.graceMs).unref();
  }

  #hold(worker: Worker, wall: string, key: string, member: Member | undefined): void {
    const id = `${wall}\n${key}`;
    let mine = this.#byWorker.get(worker);
    if (mine === undefined) {
      mine = new Set();
      this.#byWorker.set(worker, mine);
    }
    if (!mine.has(id)) {
      mine.add(id);
      this.#held.set(id, (this.#held.get(id) ?? 0) + 1);
    }
    this.#share.hold(wall, key, member);
  }

  #release(worker: Worker, wall: string, key: string): void {
    const id = `${wall}\n${key}`;
    if (this.#byWorker.get(worker)?.delete(id) === true) this.#drop(wall, key);
  }

  /** One worker less holds the person; the last one lets go. */
  #drop(wall: string, key: string): void {
    const id = `${wall}\n${key}`;
    const workers = this.#held.get(id);
    if (workers === undefined) return;
    if (workers > 1) {
      this.#held.set(id, workers - 1);
      return;
    }
    this.#held.delete(id);
    this.#share.release(wall, key);
  }

  #follow(worker: Worker, wall: string, need: PresenceNeed | undefined): void {
    let followers = this.#followers.get(wall);
    if (need === undefined) {
      followers?.delete(worker);
      if (followers?.size === 0) this.#followers.delete(wall);
      return;
    }
    if (followers === undefined) {
      followers = new Map();
      this.#followers.set(wall, followers);
    }
    followers.set(worker, need);
    sendToWorker(worker, { wc: 'presence-view', wall, need, view: this.#share.view(wall, need) });
  }

  #push(): void {
    const walls = this.#changed;
    this.#changed = new Set();
    for (const wall of walls) {
      for (const [worker, need] of this.#followers.get(wall) ?? []) {
        sendToWorker(worker, { wc: 'presence-view', wall, need, view: this.#share.view(wall, need) });
      }
    }
  }
}
