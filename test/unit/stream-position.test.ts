import { describe, expect, it } from 'vitest';
import { StreamPosition } from '../../src/stream/stream-position.js';

describe('the position of a stream of several walls', () => {
  it('writes every wall it has a cursor for, in the stream’s order', () => {
    const cursors = StreamPosition.resume(['a', 'b', 'c'], true, undefined);
    expect(cursors.id()).toBe('');
    cursors.set('c', 'e1-9');
    cursors.set('a', 'e1-2');
    expect(cursors.id()).toBe('a:e1-2,c:e1-9');
  });

  it('resumes the walls an id names, starts the others fresh, and stands where the client stood', () => {
    const cursors = StreamPosition.resume(['a', 'b', 'c'], true, 'c:e1-9,a:e1-2,z:e1-1');
    expect(cursors.resumeFrom('a')).toBe('e1-2');
    expect(cursors.resumeFrom('b')).toBeUndefined();
    expect(cursors.resumeFrom('c')).toBe('e1-9');
    expect(cursors.id()).toBe('a:e1-2,c:e1-9');
  });

  it('resumes no wall from an id that is no such list, so each gets a reset', () => {
    for (const id of ['e1-2', 'a:', ':e1-2', 'a:e1:2', 'a:e1-2,,b:e1-3']) {
      const cursors = StreamPosition.resume(['a', 'b'], true, id);
      expect(cursors.resumeFrom('a'), id).toBe('\u0000');
      expect(cursors.resumeFrom('b'), id).toBe('\u0000');
      expect(cursors.id(), id).toBe('');
    }
  });
});
