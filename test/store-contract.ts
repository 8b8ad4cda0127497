/**
 * The MessageStore contract (src/store/store.ts) as one suite, run against
 * every store. A store passes it or it is not a store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMessage } from '../src/posting.js';
import {
  eventBytes,
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
        await until('the old message expired', 8000, async () => {
          return (await retained.read('short', { limit: 5 })).events.length === 0;
        });
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
