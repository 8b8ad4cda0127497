/**
 * The presence tracker on the memory share (one instance: the memory and
 * SQLite stores): the shared contract, and what only one process shows.
 */
import { describe, expect, it } from 'vitest';
import { MemoryPresenceShare } from '../../src/presence/memory-presence-share.js';
import { MAX_LISTED_MEMBERS } from '../../src/presence/presence-share.js';
import { DEFAULT_GRACE_MS, EMIT_WINDOW_MS, MAX_GRACED, PresenceTracker } from '../../src/presence/presence-tracker.js';
import { until } from '../support/deadlines.js';
import { client, Heard, newWall, untilOnline } from '../support/presence.js';
import { type PresenceInstance, presenceContract } from '../support/presence-contract.js';

const opened: PresenceInstance[] = [];
presenceContract(
  'the memory share',
  async (options) => {
    const share = new MemoryPresenceShare();
    const instance = { tracker: new PresenceTracker({ ...options, share }), share };
    opened.push(instance);
    return instance;
  },
  async () => {
    for (const { tracker } of opened.splice(0)) await tracker.close();
  },
);

describe('presence on one instance', () => {
  it("defaults to the contract's numbers: 10 s grace, 1 event a second, 100 members listed", async () => {
    const tracker = new PresenceTracker({ share: new MemoryPresenceShare() });
    expect([tracker.graceMs, tracker.emitWindowMs, tracker.maxGraced]).toEqual([10_000, 1000, MAX_GRACED]);
    expect([DEFAULT_GRACE_MS, EMIT_WINDOW_MS, MAX_LISTED_MEMBERS]).toEqual([10_000, 1000, 100]);
    await tracker.close();
  });

  it('reports nothing for a grace after it starts, so a restart is not heard as people leaving and coming back', async () => {
    const tracker = new PresenceTracker({ share: new MemoryPresenceShare(), graceMs: 500, emitWindowMs: 100 });
    const startMs = performance.now();
    const wall = newWall();
    const heard = new Heard(tracker, wall);
    tracker.join(wall, client('back-after-restart-1'));
    expect(tracker.current(wall, { members: false })).toBeUndefined();
    // GET /presence still answers, with the people back so far.
    expect(await tracker.snapshot(wall, { members: false })).toEqual({ wall, online: 1 });
    tracker.join(wall, client('back-after-restart-2'));
    await heard.untilOnline('watchers hear everyone back', 2000, 2);
    expect(heard.counts()).toEqual([2]);
    expect((heard.heard[0]?.atMs ?? 0) - startMs).toBeGreaterThanOrEqual(500);
    expect(tracker.current(wall, { members: false })).toEqual({ wall, online: 2 });
    await tracker.close();
  });

  it("counts a stream's leave once, however often its handle is told", async () => {
    const tracker = new PresenceTracker({ share: new MemoryPresenceShare(), graceMs: 0, settleMs: 0 });
    const wall = newWall();
    const first = tracker.join(wall, client('two-tabs-1'));
    tracker.join(wall, client('two-tabs-1'));
    first.leave();
    first.leave();
    await untilOnline(tracker, wall, 1);
    expect(tracker.stats().people).toBe(1);
    await tracker.close();
  });

  it('tells every watcher even when one throws', async () => {
    const tracker = new PresenceTracker({ share: new MemoryPresenceShare(), settleMs: 0, emitWindowMs: 50 });
    const wall = newWall();
    tracker.watch(wall, { members: false }, () => {
      throw new Error('a broken watcher');
    });
    const heard = new Heard(tracker, wall);
    tracker.join(wall, client('someone-1'));
    await heard.untilOnline('the second watcher hears', 2000, 1);
    await tracker.close();
  });

  it('does nothing for streams that join or leave after it closed', async () => {
    const share = new MemoryPresenceShare();
    const tracker = new PresenceTracker({ share, settleMs: 0 });
    const wall = newWall();
    const before = tracker.join(wall, client('before-close'));
    await tracker.close();
    before.leave();
    tracker.join(wall, client('after-close'));
    tracker.watch(wall, { members: false }, () => {})();
    expect(tracker.stats()).toEqual({ walls: 0, people: 0, graced: 0, timers: 0 });
    expect(share.stats().walls).toBe(0);
    await until('nothing', 100, () => true);
  });
});
