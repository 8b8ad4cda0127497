import { describe, expect, it } from 'vitest';
import { compareStreamIds, isStreamId, streamIdBefore } from '../../src/store/redis/stream-id.js';

describe('Redis stream ids', () => {
  it('accepts ids whose two parts fit in 64 bits, and nothing else', () => {
    for (const id of ['0-0', '0-1', '1700000000000-0', '18446744073709551615-18446744073709551615']) {
      expect(isStreamId(id), id).toBe(true);
    }
    for (const id of [
      '0-18446744073709551616',
      '18446744073709551616-0',
      '99999999999999999999-0',
      '01-0',
      '1-01',
      '1',
      '1-',
      '-1',
      '1-2-3',
      ' 1-2',
      '1-2\n',
      '',
    ]) {
      expect(isStreamId(id), JSON.stringify(id)).toBe(false);
    }
  });

  it('compares by milliseconds, then by sequence, exactly past 2^53', () => {
    expect(compareStreamIds('1-0', '2-0')).toBeLessThan(0);
    expect(compareStreamIds('2-0', '1-5')).toBeGreaterThan(0);
    expect(compareStreamIds('5-9', '5-10')).toBeLessThan(0);
    expect(compareStreamIds('5-10', '5-10')).toBe(0);
    expect(compareStreamIds('1-9007199254740993', '1-9007199254740992')).toBeGreaterThan(0);
    expect(compareStreamIds('18446744073709551615-0', '18446744073709551614-0')).toBeGreaterThan(0);
  });

  it('names the id just before another, across a millisecond boundary', () => {
    expect(streamIdBefore('5-3')).toBe('5-2');
    expect(streamIdBefore('5-0')).toBe('4-18446744073709551615');
    expect(streamIdBefore('1-18446744073709551615')).toBe('1-18446744073709551614');
    expect(streamIdBefore('0-0')).toBe('0-0');
    expect(compareStreamIds(streamIdBefore('1700000000000-0'), '1700000000000-0')).toBeLessThan(0);
  });
});
