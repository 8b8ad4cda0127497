/** Helpers for the presence tests: people, a watcher that records what it heard, waiting on counts. */
import { nanoid } from 'nanoid';
import { type Person, personOf } from '../../src/presence/person.js';
import type { PresenceSnapshot } from '../../src/presence/presence-snapshot.js';
import type { PresenceTracker } from '../../src/presence/presence-tracker.js';
import { until } from './deadlines.js';

export const client = (id: string): Person => personOf(undefined, id);
export const member = (sub: string, name = sub): Person => personOf({ sub, name }, undefined);
export const stream = (): Person => personOf(undefined, undefined);
/** A wall of its own for each test: runs share one Redis. */
export const newWall = (): string =>
  `w${nanoid(8)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, 'x')}`;

/** Everything a watcher heard, with when (performance.now()). */
export class Heard {
  readonly heard: { atMs: number; snapshot: PresenceSnapshot }[] = [];
  readonly unwatch: () => void;

  constructor(tracker: PresenceTracker, wall: string, members = false) {
    this.unwatch = tracker.watch(wall, { members }, (snapshot) =>
      this.heard.push({ atMs: performance.now(), snapshot }),
    );
  }

  get last(): PresenceSnapshot | undefined {
    return this.heard.at(-1)?.snapshot;
  }

  counts(): number[] {
    return this.heard.map((h) => h.snapshot.online);
  }

  /** Waits until the last thing heard says `online`; a timeout says what was heard by then. */
  async untilOnline(label: string, ms: number, online: number): Promise<void> {
    await until(label, ms, () => this.last?.online === online).catch((error: Error) => {
      throw new Error(`${error.message} (heard ${JSON.stringify(this.counts())})`);
    });
  }
}

/** Waits until the tracker's current count of `wall` is `online`. */
export async function untilOnline(tracker: PresenceTracker, wall: string, online: number, ms = 3000): Promise<void> {
  await until(`${wall} shows ${online} online (shows ${tracker.current(wall, { members: false })?.online})`, ms, () => {
    return tracker.current(wall, { members: false })?.online === online;
  });
}

/** Waits until `ms` have passed since `fromMs` (performance.now()): for showing that something did not happen. */
export async function untilPast(label: string, fromMs: number, ms: number): Promise<void> {
  await until(label, ms + 1000, () => performance.now() >= fromMs + ms);
}
