/**
 * The MessageStore contract (src/store/store.ts) as one suite, run against
 * every store. A store passes it or it is not a store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Message } from '../src/message.js';
import { createMessage } from '../src/posting.js';
import {
  eventBytes,
  MAX_WALLS_LISTED,
  type MessageStore,
  type StoreLimits,
  TRIM_SLACK,
  type WallEvent,
  WallLimitError,
} from '../src/store/store.js';
import { until } from './support/deadlines.js';

export interface StoreFixture {
  store: MessageStore;
  /** Releases the store and deletes everything it wrote. */
  destroy(): Promise<void>;
}

/** Makes a fresh, empty store with these limits. */
export type StoreFactory = (limits: StoreLimits) => Promise<StoreFixture>;

/** The suite's usual store: 20 events per wall, bytes and walls out of the way. */
const LIMITS: StoreLimits = { historySize: 20, historyBytes: 1 << 20, maxWalls: 1000 };

export function describeStoreContract(name: string, factory: StoreFactory): void {
  describe(`MessageStore contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: MessageStore;
    let feed: { wall: string; event: WallEvent }[];

    beforeEach(async () => {
      fixture = await factory(LIMITS);
      store = fixture.store;
      feed = [];
      store.onEvent((wall, event) => feed.push({ wall, event }));
    });
    afterEach(async () => {
      await fixture.destroy();
    });

    const post = (wall: string, body: string) => store.append(createMessage(wall, 'tester', body));

    it('appends messages with strictly increasing cursors and finds them by id', async () => {
      const a = await post('w1', 'one');
      const b = await post('w1', 'two');
      expect(store.compareCursors(a.cursor, b.cursor)).toBeLessThan(0);
      expect(store.compareCursors(b.cursor, a.cursor)).toBeGreaterThan(0);
      expect(store.compareCursors(a.cursor, a.cursor)).toBe(0);
      expect(a.cursor.length).toBeLessThanOrEqual(64);
      expect(a.cursor).not.toMatch(/[\r\n\0]/);
      expect(await store.get('w1', a.id)).toEqual(a);
      expect(await store.get('w2', a.id)).toBeUndefined();
      expect(await store.get('w1', 'nope')).toBeUndefined();
    });

    it('reads the newest messages oldest first, with the head as cursor', async () => {
      const posted = [];
      for (let i = 0; i < 5; i++) posted.push(await post('w', `m${i}`));
      const page = await store.read('w', { limit: 3 });
      expect(page.reset).toBeUndefined();
      expect(page.events.map((e) => e.cursor)).toEqual(posted.slice(2).map((m) => m.cursor));
      expect(page.head).toBe(posted[4]?.cursor);
    });

    it('reads forward after a cursor in pages, and nothing after the head', async () => {
      const posted = [];
      for (let i = 0; i < 7; i++) posted.push(await post('w', `m${i}`));
      const first = await store.read('w', { after: posted[1]?.cursor, limit: 3 });
      expect(first.reset).toBeUndefined();
      expect(first.events.map((e) => e.cursor)).toEqual(posted.slice(2, 5).map((m) => m.cursor));
      const second = await store.read('w', { after: first.events.at(-1)?.cursor, limit: 3 });
      expect(second.events.map((e) => e.cursor)).toEqual(posted.slice(5).map((m) => m.cursor));
      const end = await store.read('w', { after: posted[6]?.cursor, limit: 3 });
      expect(end.events).toEqual([]);
      expect(end.reset).toBeUndefined();
    });

    it('gives an empty wall a head cursor that resumes without a reset', async () => {
      const empty = await store.read('fresh', { limit: 10 });
      expect(empty.events).toEqual([]);
      const later = await post('fresh', 'first');
      const resumed = await store.read('fresh', { after: empty.head, limit: 10 });
      expect(resumed.reset).toBeUndefined();
      expect(resumed.events.map((e) => e.cursor)).toEqual([later.cursor]);
    });

    it('names a start cursor that resumes at the first event returned', async () => {
      for (let i = 0; i < 6; i++) await post('w', `m${i}`);
      const newest = await store.read('w', { limit: 2 });
      const again = await store.read('w', { after: newest.start, limit: 2 });
      expect(again.reset).toBeUndefined();
      expect(again.events.map((e) => e.cursor)).toEqual(newest.events.map((e) => e.cursor));
    });

    it('answers malformed and unknown cursors with a reset and the newest messages', async () => {
      const posted = [];
      for (let i = 0; i < 3; i++) posted.push(await post('w', `m${i}`));
      const malformed = await store.read('w', { after: 'not a cursor', limit: 2 });
      expect(malformed.reset).toBe('malformed');
      expect(malformed.events.map((e) => e.cursor)).toEqual(posted.slice(1).map((m) => m.cursor));
      const other = await post('elsewhere', 'x');
      const ahead = await store.read('w', { after: bump(other.cursor), limit: 2 });
      expect(ahead.reset).toBeDefined();
      const fromStart = await store.read('w', { after: ahead.start, limit: 10 });
      expect(fromStart.reset).toBeUndefined();
      expect(fromStart.events.map((e) => e.cursor)).toEqual(ahead.events.map((e) => e.cursor));
    });

    it('keeps at least historySize messages and resets cursors older than what it kept', async () => {
      const posted = [];
      for (let i = 0; i < 20 + TRIM_SLACK + 5; i++) posted.push(await post('w', `m${i}`));
      const newest = await store.read('w', { limit: 20 });
      expect(newest.events.map((e) => e.cursor)).toEqual(posted.slice(-20).map((m) => m.cursor));
      const stale = await store.read('w', { after: posted[0]?.cursor, limit: 5 });
      expect(stale.reset).toBe('trimmed');
      const kept = await store.read('w', { after: posted.at(-21)?.cursor, limit: 100 });
      expect(kept.reset).toBeUndefined();
      expect(kept.events.map((e) => e.cursor)).toEqual(posted.slice(-20).map((m) => m.cursor));
    });

    it('keeps walls apart', async () => {
      await post('a', 'for a');
      await post('b', 'for b');
      const a = await store.read('a', { limit: 10 });
      expect(a.events.map((e) => (e.type === 'message' ? e.message.body : ''))).toEqual(['for a']);
    });

    it('feeds every append to the listeners once, in cursor order per wall', async () => {
      const posted = await Promise.all(Array.from({ length: 40 }, (_, i) => post(i % 2 ? 'odd' : 'even', `m${i}`)));
      await until('all 40 events fed', 5000, () => feed.length >= 40);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(feed).toHaveLength(40);
      for (const wall of ['odd', 'even']) {
        const cursors = feed.filter((f) => f.wall === wall).map((f) => f.event.cursor);
        const sorted = [...cursors].sort((x, y) => store.compareCursors(x, y));
        expect(cursors).toEqual(sorted);
        expect(new Set(cursors).size).toBe(20);
      }
      expect(new Set(feed.map((f) => f.event.cursor))).toEqual(new Set(posted.map((m) => m.cursor)));
    });

    it('deletes a message: gone from reads, a delete event with its own cursor for resumers and listeners', async () => {
      const keep = await post('w', 'keep');
      const doomed = await post('w', 'remove me');
      const later = await post('w', 'keep too');
      const deleted = await store.delete('w', doomed.id);
      expect(deleted).toMatchObject({ type: 'delete', id: doomed.id });
      expect(store.compareCursors(deleted?.cursor as string, later.cursor)).toBeGreaterThan(0);
      expect(await store.get('w', doomed.id)).toBeUndefined();
      const newest = await store.read('w', { limit: 10 });
      expect(newest.events.map((e) => e.cursor)).toEqual([keep.cursor, later.cursor]);
      expect(newest.head).toBe(deleted?.cursor);
      const resumed = await store.read('w', { after: keep.cursor, limit: 10 });
      expect(resumed.events).toEqual([
        { type: 'message', cursor: later.cursor, message: later },
        { type: 'delete', cursor: deleted?.cursor, id: doomed.id },
      ]);
      await until('the delete event fed', 5000, () => feed.some((f) => f.event.type === 'delete'));
      expect(feed.filter((f) => f.event.type === 'delete')).toEqual([{ wall: 'w', event: deleted }]);
      expect(await store.delete('w', doomed.id)).toBeUndefined();
      expect(await store.delete('w', 'no-such-id')).toBeUndefined();
      expect(await store.delete('elsewhere', keep.id)).toBeUndefined();
    });

    const cursors = (messages: readonly Message[]) => messages.map((m) => m.cursor);

    it('pages backwards: the newest messages before a cursor, oldest first, and whether older ones are kept', async () => {
      const posted: Message[] = [];
      for (let i = 0; i < 7; i++) posted.push(await post('w', `m${i}`));
      const first = await store.readBefore('w', { before: posted[6]!.cursor, limit: 3 });
      expect(first).toEqual({ messages: posted.slice(3, 6), more: true });
      const second = await store.readBefore('w', { before: first.messages[0]!.cursor, limit: 3 });
      expect(second).toEqual({ messages: posted.slice(0, 3), more: false });
      const exact = await store.readBefore('w', { before: posted[3]!.cursor, limit: 3 });
      expect(exact).toEqual({ messages: posted.slice(0, 3), more: false });
      expect(await store.readBefore('w', { before: posted[0]!.cursor, limit: 3 })).toEqual({
        messages: [],
        more: false,
      });
      // From a fresh read's head and start: the page before it, and the beginning.
      const fresh = await store.read('w', { limit: 2 });
      expect(await store.readBefore('w', { before: fresh.head, limit: 2 })).toEqual({
        messages: posted.slice(4, 6),
        more: true,
      });
      const beginning = await store.read('w', { limit: 7 });
      expect(await store.readBefore('w', { before: beginning.start, limit: 2 })).toEqual({ messages: [], more: false });
      const empty = await store.read('nothing-yet', { limit: 2 });
      expect(await store.readBefore('nothing-yet', { before: empty.head, limit: 2 })).toEqual({
        messages: [],
        more: false,
      });
    });

    it('leaves delete events and deleted messages out of backward pages', async () => {
      const a = await post('w', 'a');
      const b = await post('w', 'b');
      const c = await post('w', 'c');
      const deleted = await store.delete('w', b.id);
      expect(await store.readBefore('w', { before: deleted!.cursor, limit: 10 })).toEqual({
        messages: [a, c],
        more: false,
      });
      expect(await store.readBefore('w', { before: deleted!.cursor, limit: 1 })).toEqual({ messages: [c], more: true });
      expect(await store.readBefore('w', { before: c.cursor, limit: 1 })).toEqual({ messages: [a], more: false });
    });

    it('stops a backward page at maxBytes, but never before its first message, and says more are kept', async () => {
      const posted: Message[] = [];
      for (let i = 0; i < 6; i++) posted.push(await post('w', `${i} ${'x'.repeat(1000)}`));
      const size = eventBytes({ type: 'message', cursor: posted[0]!.cursor, message: posted[0]! });
      const page = await store.readBefore('w', { before: posted[5]!.cursor, limit: 10, maxBytes: size * 2.5 });
      expect(page).toEqual({ messages: posted.slice(3, 5), more: true });
      const tiny = await store.readBefore('w', { before: posted[5]!.cursor, limit: 10, maxBytes: 1 });
      expect(tiny).toEqual({ messages: [posted[4]], more: true });
    });

    it('pages backwards to the oldest message kept, and answers a cursor older than that with a trimmed reset', async () => {
      const posted: Message[] = [];
      for (let i = 0; i < 20 + TRIM_SLACK + 5; i++) posted.push(await post('w', `m${i}`));
      const kept = await store.read('w', { limit: 1000 });
      const oldestKept = kept.events[0]!;
      expect(await store.readBefore('w', { before: oldestKept.cursor, limit: 5 })).toEqual({
        messages: [],
        more: false,
      });
      expect(await store.readBefore('w', { before: kept.start, limit: 5 })).toEqual({ messages: [], more: false });
      // Walking back from the head meets every message kept before it once, and ends.
      const walked: Message[] = [];
      let before = kept.head;
      for (let pages = 0; pages < 100; pages++) {
        const page = await store.readBefore('w', { before, limit: 7 });
        expect(page.reset).toBeUndefined();
        walked.unshift(...page.messages);
        if (!page.more) break;
        before = page.messages[0]!.cursor;
      }
      expect(cursors(walked)).toEqual(kept.events.slice(0, -1).map((e) => e.cursor));
      expect(await store.readBefore('w', { before: posted[0]!.cursor, limit: 5 })).toEqual({
        messages: [],
        more: false,
        reset: 'trimmed',
      });
    });

    it('answers a malformed or unknown cursor as read does: the reset, and the newest messages', async () => {
      const posted: Message[] = [];
      for (let i = 0; i < 3; i++) posted.push(await post('w', `m${i}`));
      const malformed = await store.readBefore('w', { before: 'not a cursor', limit: 2 });
      expect(malformed).toEqual({ messages: posted.slice(1), more: true, reset: 'malformed' });
      const other = await post('elsewhere', 'x');
      const ahead = await store.readBefore('w', { before: bump(other.cursor), limit: 5 });
      expect(ahead.reset).toBeDefined();
      expect(ahead.reset).not.toBe('trimmed');
      expect(ahead.messages).toEqual(posted);
      expect(ahead.more).toBe(false);
    });

    /** Waits until the clock has moved on, so that the next event's time is later than the last one's. */
    const nextMillisecond = async () => {
      const now = Date.now();
      await until('the clock moved on', 1000, () => Date.now() > now + 1);
    };
    const names = (list: { walls: { wall: string }[] }) => list.walls.map((w) => w.wall);

    it('lists the walls with history, most recently active first, with the time and cursor of their newest event', async () => {
      expect(await store.listWalls({ limit: 10 })).toEqual({ walls: [] });
      const startedMs = Date.now();
      await post('w-b', 'one');
      await nextMillisecond();
      const a = await post('w-a', 'two');
      await nextMillisecond();
      await post('w-c', 'three');
      await nextMillisecond();
      const b = await post('w-b', 'four');
      const list = await store.listWalls({ limit: 10 });
      expect(names(list)).toEqual(['w-b', 'w-c', 'w-a']);
      expect(list.next).toBeUndefined();
      expect(list.walls[0]?.head).toBe(b.cursor);
      expect(list.walls[2]?.head).toBe(a.cursor);
      for (const { lastActivityAt } of list.walls) {
        expect(lastActivityAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        // The store's clock (Redis's, for Redis) on this machine: within a second of ours.
        expect(Date.parse(lastActivityAt)).toBeGreaterThanOrEqual(startedMs - 1000);
        expect(Date.parse(lastActivityAt)).toBeLessThanOrEqual(Date.now() + 1000);
      }
      const times = list.walls.map((w) => Date.parse(w.lastActivityAt));
      expect(times).toEqual([...times].sort((x, y) => y - x));
      // A delete is activity too, and a wall whose messages are all deleted still has its history.
      await nextMillisecond();
      const deleted = await store.delete('w-a', a.id);
      const after = await store.listWalls({ limit: 10 });
      expect(names(after)).toEqual(['w-a', 'w-b', 'w-c']);
      expect(after.walls[0]?.head).toBe(deleted?.cursor);
    });

    it('pages the wall list with next, listing no wall twice while walls keep posting', async () => {
      for (let i = 0; i < 5; i++) {
        await post(`w${i}`, 'hello');
        await nextMillisecond();
      }
      const first = await store.listWalls({ limit: 2 });
      expect(names(first)).toEqual(['w4', 'w3']);
      expect(first.next).toEqual(expect.any(String));
      // Walls that post meanwhile move to the top, which the walk has passed.
      await post('w4', 'again');
      await nextMillisecond();
      await post('w1', 'again');
      const second = await store.listWalls({ limit: 2, after: first.next });
      expect(names(second)).toEqual(['w2', 'w0']);
      expect(second.next).toBeUndefined();
      expect(names(await store.listWalls({ limit: 2 }))).toEqual(['w1', 'w4']);
      await expect(store.listWalls({ limit: 2, after: 'not a cursor' })).rejects.toBeInstanceOf(RangeError);
    });

    it(`lists at most ${MAX_WALLS_LISTED} walls a page, and pages through walls active in the same millisecond`, async () => {
      const walls = Array.from({ length: MAX_WALLS_LISTED + 5 }, (_, i) => `many-${i}`);
      await Promise.all(walls.map((wall) => post(wall, 'at once')));
      const first = await store.listWalls({ limit: 1000 });
      expect(first.walls).toHaveLength(MAX_WALLS_LISTED);
      const second = await store.listWalls({ limit: 1000, after: first.next });
      expect(second.next).toBeUndefined();
      const listed = [...first.walls, ...second.walls];
      expect(listed.map((w) => w.wall).sort()).toEqual([...walls].sort());
      const order = listed.map((w) => [Date.parse(w.lastActivityAt), w.wall] as const);
      expect(order).toEqual([...order].sort(([t1, w1], [t2, w2]) => t2 - t1 || (w1 < w2 ? 1 : -1)));
    });

    it('answers ready', async () => {
      expect(await store.isReady()).toBe(true);
    });

    /** A second store with other limits, destroyed after `use`. */
    const withStore = async (limits: Partial<StoreLimits>, use: (other: MessageStore) => Promise<void>) => {
      const other = await factory({ ...LIMITS, ...limits });
      try {
        await use(other.store);
      } finally {
        await other.destroy();
      }
    };
    const long = (n: number) => `${n} ${'x'.repeat(1000)}`;

    it('stops a page at maxBytes, but never before its first event', async () => {
      const posted = [];
      for (let i = 0; i < 10; i++) posted.push(await post('w', long(i)));
      const size = eventBytes({ type: 'message', cursor: posted[0]?.cursor ?? '', message: posted[0]! });
      const newest = await store.read('w', { limit: 10, maxBytes: size * 3.5 });
      expect(newest.events.map((e) => e.cursor)).toEqual(posted.slice(-3).map((m) => m.cursor));
      expect(newest.reset).toBeUndefined();
      const forward = await store.read('w', { after: posted[1]?.cursor, limit: 10, maxBytes: size * 2.5 });
      expect(forward.events.map((e) => e.cursor)).toEqual(posted.slice(2, 4).map((m) => m.cursor));
      const tiny = await store.read('w', { after: posted[1]?.cursor, limit: 10, maxBytes: 1 });
      expect(tiny.events.map((e) => e.cursor)).toEqual([posted[2]?.cursor]);
      expect((await store.read('w', { limit: 10, maxBytes: 1 })).events).toHaveLength(1);
    });

    it('counts a delete event for the bytes eventBytes gives it against maxBytes', async () => {
      const a = await post('w', 'a');
      const b = await post('w', 'b');
      const first = (await store.delete('w', a.id))!;
      const second = (await store.delete('w', b.id))!;
      const exact = eventBytes(first) + eventBytes(second);
      const both = await store.read('w', { after: b.cursor, limit: 10, maxBytes: exact });
      expect(both.events).toEqual([first, second]);
      const one = await store.read('w', { after: b.cursor, limit: 10, maxBytes: exact - 1 });
      expect(one.events).toEqual([first]);
    });

    it('keeps a wall within historyBytes (the newest always), and resets cursors it trimmed by bytes', async () => {
      await withStore({ historySize: 1000, historyBytes: 20_000 }, async (bounded) => {
        const posted = [];
        for (let i = 0; i < 40; i++) posted.push(await bounded.append(createMessage('w', '', long(i))));
        const kept = await bounded.read('w', { limit: 1000 });
        const bytes = kept.events.reduce((sum, event) => sum + eventBytes(event), 0);
        // Stores may trim in batches: up to a tenth over, and never below one event.
        expect(bytes).toBeLessThanOrEqual(20_000 * 1.1 + eventBytes(kept.events.at(-1)!));
        expect(kept.events.length).toBeGreaterThanOrEqual(5);
        expect(kept.events.at(-1)?.cursor).toBe(posted.at(-1)?.cursor);
        expect((await bounded.read('w', { after: posted[0]?.cursor, limit: 5 })).reset).toBe('trimmed');
        // A message larger than the bound on its own is still kept: the newest always is.
        const huge = await bounded.append(createMessage('big', '', 'y'.repeat(9000)));
        expect((await bounded.read('big', { limit: 10 })).events.map((e) => e.cursor)).toEqual([huge.cursor]);
      });
    });

    it('refuses a post that would start a wall past maxWalls, and stores nothing for it', async () => {
      await withStore({ maxWalls: 2 }, async (capped) => {
        await capped.append(createMessage('one', '', 'a'));
        await capped.append(createMessage('two', '', 'b'));
        await expect(capped.append(createMessage('three', '', 'c'))).rejects.toBeInstanceOf(WallLimitError);
        expect((await capped.read('three', { limit: 5 })).events).toEqual([]);
        expect(names(await capped.listWalls({ limit: 5 })).sort()).toEqual(['one', 'two']);
        expect((await capped.append(createMessage('one', '', 'still fine'))).body).toBe('still fine');
      });
    });

    it('stores a post once per idempotency key and wall, answering retries with the first message', async () => {
      const first = await store.append(createMessage('w', 'ann', 'hello'), { idempotencyKey: 'key-1' });
      const retry = await store.append(createMessage('w', 'ann', 'hello'), { idempotencyKey: 'key-1' });
      expect(retry).toEqual(first);
      const elsewhere = await store.append(createMessage('v', 'ann', 'hello'), { idempotencyKey: 'key-1' });
      expect(elsewhere.id).not.toBe(first.id);
      expect(await store.findPost('w', 'key-1')).toEqual(first);
      expect(await store.findPost('w', 'no-such-key')).toBeUndefined();
      const racing = await Promise.all(
        Array.from({ length: 5 }, () => store.append(createMessage('w', 'bo', 'race'), { idempotencyKey: 'key-2' })),
      );
      expect(new Set(racing.map((m) => m.id)).size).toBe(1);
      const stored = await store.read('w', { limit: 20 });
      expect(stored.events.map((e) => (e.type === 'message' ? e.message.id : ''))).toEqual([first.id, racing[0]?.id]);
      await until('both posts fed', 5000, () => feed.filter((f) => f.wall === 'w').length >= 2);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(feed.filter((f) => f.wall === 'w')).toHaveLength(2);
    });

    it('keeps an idempotency key with its message only: trimmed or deleted, the key names nothing', async () => {
      const first = await store.append(createMessage('k', '', 'keyed'), { idempotencyKey: 'kept-with-it' });
      for (let i = 0; i < LIMITS.historySize + TRIM_SLACK + 5; i++) await post('k', `filler ${i}`);
      expect(await store.findPost('k', 'kept-with-it')).toBeUndefined();
      const after = await store.append(createMessage('k', '', 'keyed'), { idempotencyKey: 'kept-with-it' });
      expect(after.id).not.toBe(first.id);
      await store.delete('k', after.id);
      const again = await store.append(createMessage('k', '', 'keyed'), { idempotencyKey: 'kept-with-it' });
      expect(again.id).not.toBe(after.id);
    });

    it('deletes events past the retention, resets cursors into them, and frees their wall', async () => {
      await withStore({ retentionMs: 1000, maxWalls: 1 }, async (retained) => {
        const seen = await retained.append(createMessage('short', '', 'seen, then gone'));
        const old = await retained.append(createMessage('short', '', 'gone unseen'));
        await expect(retained.append(createMessage('other', '', 'no room'))).rejects.toBeInstanceOf(WallLimitError);
        expect(names(await retained.listWalls({ limit: 5 }))).toEqual(['short']);
        await until('the old message expired', 8000, async () => {
          return (await retained.read('short', { limit: 5 })).events.length === 0;
        });
        expect(await retained.listWalls({ limit: 5 })).toEqual({ walls: [] });
        expect(await retained.get('short', old.id)).toBeUndefined();
        // A reader who saw everything lost nothing; one who missed an expired message is told.
        expect((await retained.read('short', { after: old.cursor, limit: 5 })).reset).toBeUndefined();
        expect((await retained.read('short', { after: seen.cursor, limit: 5 })).reset).toBe('trimmed');
        expect((await retained.append(createMessage('other', '', 'room now'))).body).toBe('room now');
      });
    });
  });
}

/** A well-formed cursor far ahead of `cursor` in the same numbering. */
function bump(cursor: string): string {
  return cursor.replace(/(\d+)$/, (digits) => String(Number(digits) + 1_000_000));
}
