import { describe, expect, it } from 'vitest';
import { takePage } from '../../src/store/page.js';

/** Items whose size is their value, counting how many were pulled. */
function sized(values: number[]) {
  const source = {
    pulled: 0,
    *[Symbol.iterator]() {
      for (const value of values) {
        source.pulled++;
        yield value;
      }
    },
  };
  return source;
}

const size = (n: number) => n;

describe('takePage, the page of a read for the memory and SQLite stores', () => {
  it('takes up to limit items, and says more when one is left', () => {
    expect(takePage([1, 2, 3, 4], size, 3)).toEqual({ items: [1, 2, 3], more: true });
    expect(takePage([1, 2, 3], size, 3)).toEqual({ items: [1, 2, 3], more: false });
    expect(takePage([], size, 3)).toEqual({ items: [], more: false });
  });

  it('stops before the item that would pass maxBytes, but never before the first', () => {
    expect(takePage([4, 4, 4], size, 10, 10)).toEqual({ items: [4, 4], more: true });
    expect(takePage([4, 4, 2], size, 10, 10)).toEqual({ items: [4, 4, 2], more: false });
    expect(takePage([50, 1], size, 10, 10)).toEqual({ items: [50], more: true });
    expect(takePage([50], size, 10, 10)).toEqual({ items: [50], more: false });
  });

  it('pulls one item past the page at most, so a database cursor reads no further', () => {
    const source = sized([1, 1, 1, 1, 1, 1]);
    takePage(source, size, 2);
    expect(source.pulled).toBe(3);
    const bounded = sized([5, 5, 5, 5]);
    takePage(bounded, size, 10, 7);
    expect(bounded.pulled).toBe(2);
  });
});
