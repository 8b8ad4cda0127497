/**
 * What a presence tracker promises (issue 17), whatever share joins its
 * people: run against the memory share and the Redis share. Real time,
 * with a short grace and window where the contract's 10 s and 1 s would
 * make the suite slow; the rate bound runs at the real 1 s.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_LISTED_MEMBERS, type PresenceShare } from '../../src/presence/presence-share.js';
import type { PresenceTracker, PresenceTrackerOptions } from '../../src/presence/presence-tracker.js';
import { until } from './deadlines.js';
import { client, Heard, member, newWall, stream, untilOnline, untilPast } from './presence.js';

export interface PresenceInstance {
  tracker: PresenceTracker;
  share: PresenceShare;
}

/** Opens a tracker on an instance of its own (its own share); every one is closed after each test. */
export type OpenPresence = (options: Omit<PresenceTrackerOptions, 'share'>) => Promise<PresenceInstance>;

const GRACE_MS = 400;
const WINDOW_MS = 100;

export function presenceContract(name: string, open: OpenPresence, closeAll: () => Promise<void>): void {
  describe(`presence on ${name}`, () => {
    afterEach(closeAll);
    const openTracker = async (options: Omit<PresenceTrackerOptions, 'share'> = {}) =>
      (await open({ graceMs: GRACE_MS, emitWindowMs: WINDOW_MS, settleMs: 0, ...options })).tracker;

    it('counts people, not streams: a person with several streams once, each person once', async () => {
      const tracker = await openTracker();
      const wall = newWall();
      const heard = new Heard(tracker, wall);
      const tabs = [1, 2, 3].map(() => tracker.join(wall, client('browser-A')));
      tracker.join(wall, client('browser-B'));
      const ann = [tracker.join(wall, member('u1', 'Ann')), tracker.join(wall, member('u1', 'Ann'))];
      tracker.join(wall, stream());
      tracker.join(wall, stream());
      await untilOnline(tracker, wall, 5);
      tabs[0]?.leave();
      tabs[1]?.leave();
      ann[0]?.leave();
      // Past the grace, and a later arrival to show the leaves were taken in: the people are all still here.
      await untilPast('past the grace', performance.now(), GRACE_MS + 200);
      tracker.join(wall, client('late-comer'));
      await untilOnline(tracker, wall, 6);
      await heard.untilOnline('watchers hear 6', 2000, 6);
      expect(heard.counts().every((online) => online <= 6)).toBe(true);
    });

    it("joins a token's streams by its sub whatever client ids they carry, and never a client id with a sub", async () => {
      const tracker = await openTracker();
      const wall = newWall();
      new Heard(tracker, wall);
      const { personOf } = await import('../../src/presence/person.js');
      tracker.join(wall, personOf({ sub: 'abcdefgh', name: 'Ann' }, 'tab-one-1'));
      tracker.join(wall, personOf({ sub: 'abcdefgh', name: 'Ann' }, 'tab-two-2'));
      await untilOnline(tracker, wall, 1);
      // The same spelling as a client id is another person: a client id cannot pass for a member.
      tracker.join(wall, personOf(undefined, 'abcdefgh'));
      await untilOnline(tracker, wall, 2);
    });

    it('keeps a person who comes back within the grace: the count never drops and nothing is heard', async () => {
      const tracker = await openTracker();
      const wall = newWall();
      const heard = new Heard(tracker, wall);
      const first = tracker.join(wall, client('blinking'));
      await heard.untilOnline('watchers hear 1', 2000, 1);
      const heardBefore = heard.heard.length;
      first.leave();
      const leftMs = performance.now();
      await untilPast('half the grace', leftMs, GRACE_MS / 2);
      const again = tracker.join(wall, client('blinking'));
      const seen = new Set<number | undefined>();
      await until('past the grace, a window and a poll', GRACE_MS + 2000, () => {
        seen.add(tracker.current(wall, { members: false })?.online);
        return performance.now() > leftMs + GRACE_MS + WINDOW_MS + 800;
      });
      expect([...seen]).toEqual([1]);
      expect(heard.heard.length).toBe(heardBefore);
      again.leave();
    });

    it('counts a person out once the grace has passed without them, and in again when they come back', async () => {
      const tracker = await openTracker();
      const wall = newWall();
      const heard = new Heard(tracker, wall);
      const handle = tracker.join(wall, client('leaving-1'));
      await untilOnline(tracker, wall, 1);
      handle.leave();
      const leftMs = performance.now();
      await untilOnline(tracker, wall, 0, GRACE_MS + 2000);
      expect(performance.now() - leftMs).toBeGreaterThanOrEqual(GRACE_MS);
      await heard.untilOnline('watchers hear 0', 2000, 0);
      tracker.join(wall, client('leaving-1'));
      await untilOnline(tracker, wall, 1);
      await heard.untilOnline('watchers hear 1 again', 2000, 1);
      expect(heard.counts()).toEqual([1, 0, 1]);
    });

    it('counts a stream without client id or token out at once: it can never come back as itself', async () => {
      const tracker = await openTracker({ graceMs: 10_000 });
      const wall = newWall();
      new Heard(tracker, wall);
      const handle = tracker.join(wall, stream());
      await untilOnline(tracker, wall, 1);
      handle.leave();
      await untilOnline(tracker, wall, 0, 2000);
    });

    it('tells watchers at most once a second under a connect/disconnect loop, and the final count after it', async () => {
      const tracker = await openTracker({ emitWindowMs: 1000 });
      const wall = newWall();
      const heard = new Heard(tracker, wall);
      tracker.join(wall, client('steady-1'));
      await untilOnline(tracker, wall, 1);
      const open: { leave(): void }[] = [];
      const loopEndMs = performance.now() + 3500;
      let turn = 0;
      await until('the loop ends', 5000, () => {
        // Anonymous streams come and go (no grace): the count changes all the time.
        if (turn++ % 3 === 2) open.shift()?.leave();
        else open.push(tracker.join(wall, stream()));
        return performance.now() >= loopEndMs;
      });
      const final = 1 + open.length;
      await untilOnline(tracker, wall, final);
      await heard.untilOnline('watchers hear the final count', 2500, final);
      const times = heard.heard.map((h) => h.atMs);
      const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
      expect(
        gaps.every((gap) => gap >= 995),
        `gaps ${gaps.map(Math.round)}`,
      ).toBe(true);
      expect(heard.heard.length).toBeLessThanOrEqual(7);
      expect(turn).toBeGreaterThan(100);
    });

    it('lists the first 100 members by arrival, counts the rest in more, and never lists anonymous people', async () => {
      const tracker = await openTracker();
      const wall = newWall();
      const heard = new Heard(tracker, wall, true);
      const counted = new Heard(tracker, wall, false);
      const sub = (i: number) => `u${String(i).padStart(3, '0')}`;
      const handles = Array.from({ length: 105 }, (_, i) => tracker.join(wall, member(sub(i), `Name ${i}`)));
      tracker.join(wall, client('anonymous-1'));
      tracker.join(wall, stream());
      await untilOnline(tracker, wall, 107);
      const now = tracker.current(wall, { members: true });
      expect(now?.members).toHaveLength(MAX_LISTED_MEMBERS);
      expect(now?.members?.map((m) => m.id)).toEqual(Array.from({ length: 100 }, (_, i) => sub(i)));
      expect(now?.members?.[7]).toEqual({ id: 'u007', name: 'Name 7' });
      expect(now?.more).toBe(5);
      handles[0]?.leave();
      await until('u000 gone from the list', GRACE_MS + 3000, () => heard.last?.members?.[0]?.id === 'u001');
      expect(heard.last).toMatchObject({ wall, online: 106, more: 4 });
      expect(heard.last?.members?.at(-1)?.id).toBe('u100');
      expect(counted.last).toEqual({ wall, online: 106 });
    });

    it('holds nothing for a wall once its streams, people in grace and watchers are gone', async () => {
      const { tracker, share } = await open({ graceMs: GRACE_MS, emitWindowMs: WINDOW_MS, settleMs: 0 });
      const wall = newWall();
      const heard = new Heard(tracker, wall, true);
      const handles = [
        tracker.join(wall, client('client-1')),
        tracker.join(wall, member('u1')),
        tracker.join(wall, stream()),
      ];
      await untilOnline(tracker, wall, 3);
      for (const handle of handles) handle.leave();
      await until('everyone gone', GRACE_MS + 3000, () => heard.last?.online === 0);
      heard.unwatch();
      expect(tracker.stats()).toEqual({ walls: 0, people: 0, graced: 0, timers: 0 });
      await until('the share forgot the wall', 3000, () => share.stats().walls === 0);
    });

    it('ends the grace of the longest-gone early past maxGraced, so churn cannot inflate the count', async () => {
      const tracker = await openTracker({ graceMs: 10_000, maxGraced: 2 });
      const wall = newWall();
      new Heard(tracker, wall);
      for (const id of ['churner-1', 'churner-2', 'churner-3', 'churner-4']) tracker.join(wall, client(id)).leave();
      await untilOnline(tracker, wall, 2);
      expect(tracker.stats().graced).toBe(2);
    });

    it("ends the grace of a wall's longest-gone early past maxPeoplePerWall, live people and other walls kept", async () => {
      const tracker = await openTracker({ graceMs: 10_000, maxPeoplePerWall: 3 });
      const [wall, other] = [newWall(), newWall()];
      const heard = new Heard(tracker, wall);
      tracker.join(wall, client('stays-here'));
      tracker.join(other, client('elsewhere-1')).leave();
      for (const id of ['churner-1', 'churner-2', 'churner-3', 'churner-4']) tracker.join(wall, client(id)).leave();
      await untilOnline(tracker, wall, 3);
      // Three live people: no one in grace is left, and the live are never counted out.
      tracker.join(wall, client('live-two1'));
      tracker.join(wall, stream());
      await untilOnline(tracker, wall, 3);
      tracker.join(wall, client('live-three'));
      await untilOnline(tracker, wall, 4);
      expect(Math.max(...heard.counts())).toBeLessThanOrEqual(4);
      // The other wall is not watched: its count is read, as GET /presence does.
      await until('the other wall keeps its person in grace', 3000, async () => {
        return (await tracker.snapshot(other, { members: false })).online === 1;
      });
    });

    it('answers the snapshot of a wall it does not watch, for GET /presence', async () => {
      const tracker = await openTracker();
      const wall = newWall();
      tracker.join(wall, client('reader-1'));
      tracker.join(wall, member('u9', 'Nine'));
      await until(
        'the snapshot shows both',
        3000,
        async () => (await tracker.snapshot(wall, { members: false })).online === 2,
      );
      expect(await tracker.snapshot(wall, { members: true })).toEqual({
        wall,
        online: 2,
        members: [{ id: 'u9', name: 'Nine' }],
        more: 0,
      });
      expect(await tracker.snapshot(newWall(), { members: false })).toMatchObject({ online: 0 });
    });
  });
}
