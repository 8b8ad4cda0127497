import type { Member } from './person.js';
import { MAX_LISTED_MEMBERS, type PresenceNeed, type PresenceShare, type SharedView } from './presence-share.js';

interface LocalWall {
  /** Every key held, with its member if it is one. */
  readonly people: Map<string, Member | undefined>;
  /** The members, in arrival order (a Map keeps insertion order; a new name keeps the place). */
  readonly members: Map<string, Member>;
  /** The first MAX_LISTED_MEMBERS, computed when first asked after a change of members. */
  listed: readonly Member[] | undefined;
}

const EMPTY: SharedView = { online: 0, members: [], memberCount: 0 };

/**
 * One process is the whole wall: its people are the view, known at once.
 * Nothing outlives the process (see the tracker's settling).
 */
export class MemoryPresenceShare implements PresenceShare {
  readonly outlivesProcess = false;
  readonly #walls = new Map<string, LocalWall>();
  #listener: ((wall: string) => void) | undefined;

  onChange(listener: (wall: string) => void): void {
    this.#listener = listener;
  }

  hold(wall: string, key: string, member: Member | undefined): void {
    let local = this.#walls.get(wall);
    if (local === undefined) {
      local = { people: new Map(), members: new Map(), listed: undefined };
      this.#walls.set(wall, local);
    }
    const had = local.people.get(key);
    if (local.people.has(key) && had?.name === member?.name) return;
    local.people.set(key, member);
    if (member !== undefined) {
      local.members.set(key, member);
      local.listed = undefined;
    }
    this.#listener?.(wall);
  }

  release(wall: string, key: string): void {
    const local = this.#walls.get(wall);
    if (local === undefined || !local.people.delete(key)) return;
    if (local.members.delete(key)) local.listed = undefined;
    // No state for a wall nobody is on (issue 17: bounded).
    if (local.people.size === 0) this.#walls.delete(wall);
    this.#listener?.(wall);
  }

  follow(): void {
    // Every wall's view is known here at all times.
  }

  view(wall: string, need: PresenceNeed): SharedView {
    const local = this.#walls.get(wall);
    if (local === undefined) return need === 'count' ? { online: 0 } : EMPTY;
    if (need === 'count') return { online: local.people.size };
    if (local.listed === undefined) {
      const listed: Member[] = [];
      for (const member of local.members.values()) {
        if (listed.length === MAX_LISTED_MEMBERS) break;
        listed.push(member);
      }
      local.listed = listed;
    }
    return { online: local.people.size, members: local.listed, memberCount: local.members.size };
  }

  async read(wall: string, need: PresenceNeed): Promise<SharedView> {
    return this.view(wall, need);
  }

  stats(): { walls: number } {
    return { walls: this.#walls.size };
  }

  async close(): Promise<void> {
    this.#walls.clear();
    this.#listener = undefined;
  }
}
