import { describe, expect, it } from 'vitest';
import { EventCache } from '../../src/store/event-cache.js';
import type { WallEvent } from '../../src/store/store.js';

const event = (n: number): WallEvent => ({ type: 'delete', cursor: `e-${n}`, id: `m${n}` });

describe('the event cache', () => {
  it('drops the oldest events once past its bytes, and keeps its count of bytes exact', () => {
    const cache = new EventCache(100);
    for (let seq = 1; seq <= 5; seq++) cache.set(seq, event(seq), 30);
    expect([1, 2, 3, 4, 5].map((seq) => cache.get(seq) !== undefined)).toEqual([false, false, true, true, true]);
    cache.delete(4);
    cache.set(6, event(6), 30);
    expect(cache.get(3)).toBeDefined();
    cache.set(7, event(7), 70);
    expect([3, 5, 6, 7].map((seq) => cache.get(seq) !== undefined)).toEqual([false, false, true, true]);
  });
});
