/**
 * What the workers of one machine share through their primary when the
 * store is not Redis (on Redis, each worker joins the Redis ones like any
 * instance): the tickets (one is issued on one worker and redeemed on
 * another) and presence (people on every worker count once).
 */
import type { TicketBook, TicketRecord } from '../auth/tickets.js';
import type { Member } from '../presence/person.js';
import type { PresenceNeed, PresenceShare, SharedView } from '../presence/presence-share.js';
import type { StreamSlots } from '../stream/stream-slots.js';
import type { PrimaryLink } from './primary-link.js';
import type { PresenceOp } from './protocol.js';

/** WALLCAST_MAX_SUBSCRIBERS over the machine: the primary counts every worker's streams. */
export class WorkerStreamSlots implements StreamSlots {
  constructor(private readonly link: PrimaryLink) {}

  async take(): Promise<boolean> {
    return (await this.link.call('slotTake', [])) === true;
  }

  give(): void {
    this.link.tell({ wc: 'slot-give' });
  }
}

/** The machine's tickets, kept by the primary. */
export class WorkerTicketBook implements TicketBook {
  constructor(private readonly link: PrimaryLink) {}

  async put(id: string, record: TicketRecord): Promise<void> {
    await this.link.call('ticketPut', [id, record]);
  }

  async take(id: string): Promise<TicketRecord | undefined> {
    return (await this.link.call('ticketTake', [id])) as TicketRecord | undefined;
  }
}

/**
 * This worker's people, told to the primary once per turn of the loop (one
 * message however many streams came and went), and the views of the walls
 * it follows, pushed by the primary when they change.
 *
 * Nothing of it outlives the machine, so a worker's tracker settles for a
 * grace after it starts (presence-tracker.ts); a worker that dies keeps its
 * people counted for the grace at the primary, so its clients reconnecting
 * to the others are never counted out and in.
 */
export class WorkerPresenceShare implements PresenceShare {
  readonly outlivesProcess = false;
  /** A wall is followed for one need at a time, so it has one view: the newest pushed for that need. */
  readonly #followed = new Map<string, { need: PresenceNeed; view?: SharedView }>();
  #ops: PresenceOp[] = [];
  #listener: ((wall: string) => void) | undefined;

  constructor(private readonly link: PrimaryLink) {
    link.listen((message) => {
      if (message.wc !== 'presence-view') return;
      const followed = this.#followed.get(message.wall);
      if (followed?.need !== message.need) return;
      followed.view = message.view;
      this.#listener?.(message.wall);
    });
  }

  onChange(listener: (wall: string) => void): void {
    this.#listener = listener;
  }

  hold(wall: string, key: string, member: Member | undefined): void {
    this.#queue(['hold', wall, key, member ?? null]);
  }

  release(wall: string, key: string): void {
    this.#queue(['release', wall, key]);
  }

  follow(wall: string, need: PresenceNeed | undefined): void {
    if (need === undefined) this.#followed.delete(wall);
    else if (this.#followed.get(wall)?.need !== need) this.#followed.set(wall, { need });
    this.#queue(['follow', wall, need ?? null]);
  }

  view(wall: string, need: PresenceNeed): SharedView | undefined {
    const view = this.#followed.get(wall)?.view;
    return need === 'members' && view?.members === undefined ? undefined : view;
  }

  async read(wall: string, need: PresenceNeed): Promise<SharedView> {
    return (await this.link.call('presenceRead', [wall, need])) as SharedView;
  }

  stats(): { walls: number } {
    return { walls: this.#followed.size };
  }

  async close(): Promise<void> {
    this.#flush();
  }

  #queue(op: PresenceOp): void {
    if (this.#ops.length === 0) setImmediate(() => this.#flush());
    this.#ops.push(op);
  }

  #flush(): void {
    if (this.#ops.length === 0) return;
    const ops = this.#ops;
    this.#ops = [];
    this.link.tell({ wc: 'presence', ops });
  }
}
