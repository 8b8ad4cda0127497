import { describe, expect, it } from 'vitest';
import { RingBuffer } from '../../src/store/ring-buffer.js';

describe('RingBuffer', () => {
  it('keeps the newest items up to its capacity and hands back what it evicts', () => {
    const ring = new RingBuffer<number>(3);
    expect([ring.push(1), ring.push(2), ring.push(3)]).toEqual([undefined, undefined, undefined]);
    expect(ring.push(4)).toBe(1);
    expect(ring.slice()).toEqual([2, 3, 4]);
    expect(ring.length).toBe(3);
  });

  it('indexes from the oldest item and clamps slices', () => {
    const ring = new RingBuffer<number>(4);
    for (let i = 0; i < 10; i++) ring.push(i);
    expect(ring.at(0)).toBe(6);
    expect(ring.at(3)).toBe(9);
    expect(ring.at(4)).toBeUndefined();
    expect(ring.at(-1)).toBeUndefined();
    expect(ring.slice(1, 3)).toEqual([7, 8]);
    expect(ring.slice(2, 99)).toEqual([8, 9]);
  });

  it('removes the oldest with shift, and reuses the freed slots in order', () => {
    const ring = new RingBuffer<number>(3);
    for (let i = 0; i < 3; i++) ring.push(i);
    expect(ring.shift()).toBe(0);
    expect(ring.shift()).toBe(1);
    expect(ring.length).toBe(1);
    expect(ring.push(3)).toBeUndefined();
    expect(ring.push(4)).toBeUndefined();
    expect(ring.slice()).toEqual([2, 3, 4]);
    expect(ring.push(5)).toBe(2);
    expect(ring.slice()).toEqual([3, 4, 5]);
    while (ring.shift() !== undefined);
    expect(ring.length).toBe(0);
    ring.push(6);
    expect(ring.slice()).toEqual([6]);
  });

  it('refuses a capacity below one', () => {
    expect(() => new RingBuffer(0)).toThrow(RangeError);
  });
});
