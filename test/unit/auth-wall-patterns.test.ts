import { describe, expect, it } from 'vitest';
import { matchesWall, parseWallPattern, parseWallPatternList, WallPatterns } from '../../src/auth/wall-patterns.js';
import { parseWall } from '../../src/wall.js';

const matches = (pattern: string, wall: string) => matchesWall(parseWallPattern(pattern), wall);

describe('wall patterns', () => {
  it('matches a plain name exactly, and * as any run of name characters, the empty run included', () => {
    const cases: [string, string, boolean][] = [
      ['main', 'main', true],
      ['main', 'main2', false],
      ['main', 'mai', false],
      ['team-*', 'team-a', true],
      ['team-*', 'team-', true],
      ['team-*', 'team', false],
      ['team-*', 'teams-a', false],
      ['*', 'anything_at-all9', true],
      ['a*b', 'ab', true],
      ['a*b', 'axxb', true],
      ['a*b', 'axxbc', false],
      ['a*b', 'ba', false],
      ['*-ops', 'team-ops', true],
      ['*-ops', 'team-opsx', false],
      ['a*b*c', 'abc', true],
      ['a*b*c', 'aXbYbZc', true],
      ['a*b*c', 'acb', false],
      // The suffix may not reuse the prefix's characters.
      ['ab*ba', 'aba', false],
      ['ab*ba', 'abba', true],
      ['*a*', 'bab', true],
      ['*a*', 'bbb', false],
      ['x**y', 'xy', true],
    ];
    for (const [pattern, wall, expected] of cases)
      expect(matches(pattern, wall), `${pattern} ~ ${wall}`).toBe(expected);
  });

  it('refuses a bad pattern with one line that says what is wrong', () => {
    const cases: [string, RegExp][] = [
      ['', /^an empty wall pattern/],
      ['Team-*', /^the wall pattern "Team-\*" has "T", which no wall name has/],
      ['team a', /has " ", which no wall name has/],
      ['team.*', /has "\.", which no wall name has/],
      ['team-?', /has "\?"/],
      ['-team', /starts with "-", as no wall name does/],
      ['_*', /starts with "_"/],
      ['a'.repeat(65), /can match no wall: wall names have at most 64 characters/],
      ['a*'.repeat(65), /longer than 128 characters/],
    ];
    for (const [pattern, message] of cases) {
      expect(() => parseWallPattern(pattern), pattern).toThrow(message);
      let text = '';
      try {
        parseWallPattern(pattern);
      } catch (error) {
        text = (error as Error).message;
      }
      expect(text).not.toContain('\n');
    }
  });

  it('takes the characters of wall names (src/wall.ts), and only those', () => {
    for (let code = 0; code < 128; code++) {
      const character = String.fromCharCode(code);
      if (character === '*') continue;
      let wallAccepts = true;
      try {
        parseWall(`a${character}`);
      } catch {
        wallAccepts = false;
      }
      let patternAccepts = true;
      try {
        parseWallPattern(`a${character}`);
      } catch {
        patternAccepts = false;
      }
      expect(patternAccepts, JSON.stringify(character)).toBe(wallAccepts);
    }
  });

  it('matches a hostile pattern in bounded time (no backtracking)', () => {
    // With a backtracking regex, a*a*a*…b against aaa…a takes exponential time.
    const pattern = parseWallPattern(`${'a*'.repeat(60)}b`);
    const wall = 'a'.repeat(64);
    const started = performance.now();
    for (let i = 0; i < 1000; i++) expect(matchesWall(pattern, wall)).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('reads a comma-separated list, spaces around entries allowed, and matches any of it', () => {
    const list = parseWallPatternList(' team-*, main ');
    expect(list.toString()).toBe('team-*,main');
    expect(JSON.stringify({ privateWalls: list })).toBe('{"privateWalls":"team-*,main"}');
    expect(list.matches('team-x')).toBe(true);
    expect(list.matches('main')).toBe(true);
    expect(list.matches('other')).toBe(false);
    expect(parseWallPatternList('').isEmpty).toBe(true);
    expect(() => parseWallPatternList('a,,b')).toThrow(/an empty wall pattern/);
    expect(WallPatterns.exactly(['a-*']).matches('a-b')).toBe(false);
  });
});
