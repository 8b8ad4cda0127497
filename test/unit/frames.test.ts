import { describe, expect, it } from 'vitest';
import { encodeComment, encodeEvent, encodeRetry } from '../../src/stream/frames.js';

describe('SSE encoding', () => {
  it('splits multi-line data into one data: line per line, whatever the line ending', () => {
    expect(encodeEvent({ data: 'a\nb\r\nc\rd' })).toBe('data: a\ndata: b\ndata: c\ndata: d\n\n');
  });

  it('writes event, id and data in one block ended by a blank line', () => {
    expect(encodeEvent({ event: 'reset', id: 'e-1', data: '{}' })).toBe('event: reset\nid: e-1\ndata: {}\n\n');
  });

  it('writes an id-only event, which sets the last event ID without dispatching', () => {
    expect(encodeEvent({ id: 'e-0' })).toBe('id: e-0\n\n');
  });

  it('refuses CR, LF and NUL in id and event, so no event can forge another', () => {
    expect(() => encodeEvent({ id: 'a\nevent: x' })).toThrow(/must not contain/);
    expect(() => encodeEvent({ id: 'a\rb' })).toThrow(/must not contain/);
    expect(() => encodeEvent({ id: 'a\0b' })).toThrow(/must not contain/);
    expect(() => encodeEvent({ event: 'message\ndata: evil' })).toThrow(/must not contain/);
  });

  it('keeps comments on one line and writes retry in whole milliseconds', () => {
    expect(encodeComment('a\nb')).toBe(': a b\n\n');
    expect(encodeRetry(1234.6)).toBe('retry: 1235\n\n');
  });
});
