import { describe, expect, it } from 'vitest';
import { isClientId, personOf } from '../../src/presence/person.js';

describe('who a stream counts as', () => {
  it('takes client ids of 8–64 characters of A-Z a-z 0-9 _ - and nothing else', () => {
    for (const ok of ['abcdefgh', 'A1_-z9Q0', 'x'.repeat(64)]) expect(isClientId(ok), ok).toBe(true);
    for (const bad of ['', 'abcdefg', 'x'.repeat(65), 'abcd efgh', 'abcdefg:', 'abcdéfgh', 'abcdefgh\n', 'u:abcdefg']) {
      expect(isClientId(bad), JSON.stringify(bad)).toBe(false);
    }
  });

  it("counts a token's stream as its sub, a client id beside it ignored", () => {
    expect(personOf({ sub: 'u42', name: 'Ann' }, 'browser-1')).toEqual({
      kind: 'member',
      key: 'u:u42',
      member: { id: 'u42', name: 'Ann' },
    });
  });

  it('counts a stream without token as its client id, and one without either as itself', () => {
    expect(personOf(undefined, 'browser-1')).toEqual({ kind: 'client', key: 'c:browser-1' });
    expect(personOf(undefined, undefined)).toEqual({ kind: 'stream' });
  });

  it('keeps the kinds apart: a client id spelled like a sub is another person', () => {
    const asMember = personOf({ sub: 'abcdefgh', name: 'abcdefgh' }, undefined);
    const asClient = personOf(undefined, 'abcdefgh');
    expect(asMember.kind === 'member' && asClient.kind === 'client' && asMember.key !== asClient.key).toBe(true);
  });

  it('refuses a client id the route should have refused', () => {
    expect(() => personOf(undefined, 'short')).toThrow(RangeError);
  });
});
