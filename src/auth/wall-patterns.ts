/**
 * Wall patterns: how a token's grants and the `WALLCAST_PRIVATE_WALLS` /
 * `WALLCAST_OPEN_WALLS` settings name walls (issue 16). A pattern is a wall
 * name in which `*` stands for any run of wall-name characters, the empty
 * run included: `main`, `team-*`, `*`, `a*b`.
 *
 * Patterns come from tokens, that is from outside, so matching builds no
 * regular expression from them: a pattern is split once at its stars, and
 * a wall is matched by finding each piece in turn, left to right, never
 * going back (the leftmost place of a piece is always a good one when the
 * only wildcard is `*`). The work is at most |wall| × |pattern|, both at
 * most 64 and 128 characters: no input can make it blow up.
 */

import { MAX_WALL_CHARS, WALL_CHARACTER, WALL_FIRST_CHARACTER } from '../wall.js';

/**
 * The longest pattern: a wall name's 64 characters with room for stars
 * between them. A longer one is a mistake, and refusing it bounds the work.
 */
export const MAX_PATTERN_CHARS = 128;

export interface WallPattern {
  /** The pattern as written, with runs of stars made one. */
  readonly source: string;
  /** The text between the stars: one piece for a plain wall name, `['team-', '']` for `team-*`. */
  readonly pieces: readonly string[];
}

/** A pattern that is not one; its message is one line saying why. */
export class WallPatternError extends Error {
  override name = 'WallPatternError';
}

/** Reads one pattern, or throws a WallPatternError whose message says what is wrong with it. */
export function parseWallPattern(raw: string): WallPattern {
  const shown = raw.length > 40 ? `${JSON.stringify(raw.slice(0, 40))}…` : JSON.stringify(raw);
  if (raw === '') throw new WallPatternError('an empty wall pattern: give a wall name, or a name with *');
  if (raw.length > MAX_PATTERN_CHARS) {
    throw new WallPatternError(`the wall pattern ${shown} is longer than ${MAX_PATTERN_CHARS} characters`);
  }
  for (const character of raw) {
    if (character !== '*' && !WALL_CHARACTER.test(character)) {
      throw new WallPatternError(
        `the wall pattern ${shown} has ${JSON.stringify(character)}, which no wall name has ` +
          '(a-z, 0-9, "_" and "-", and * for any run of them)',
      );
    }
  }
  const first = raw[0] ?? '';
  if (first !== '*' && !WALL_FIRST_CHARACTER.test(first)) {
    throw new WallPatternError(`the wall pattern ${shown} starts with ${JSON.stringify(first)}, as no wall name does`);
  }
  const source = raw.replace(/\*+/g, '*');
  const pieces = source.split('*');
  const literal = pieces.reduce((sum, piece) => sum + piece.length, 0);
  if (literal > MAX_WALL_CHARS) {
    throw new WallPatternError(`the wall pattern ${shown} can match no wall: wall names have at most 64 characters`);
  }
  return { source, pieces };
}

/** Whether `wall`, a valid wall name, is one the pattern names. */
export function matchesWall(pattern: WallPattern, wall: string): boolean {
  const { pieces } = pattern;
  const first = pieces[0] ?? '';
  if (pieces.length === 1) return wall === first;
  const last = pieces[pieces.length - 1] ?? '';
  if (wall.length < first.length + last.length || !wall.startsWith(first) || !wall.endsWith(last)) return false;
  // The pieces between the first and the last, each at its leftmost place after the one before.
  let from = first.length;
  const end = wall.length - last.length;
  for (let index = 1; index < pieces.length - 1; index++) {
    const piece = pieces[index] ?? '';
    const at = wall.indexOf(piece, from);
    if (at === -1 || at + piece.length > end) return false;
    from = at + piece.length;
  }
  return true;
}

/** A list of patterns: a wall matches the list when it matches any of them. */
export class WallPatterns {
  static readonly none = new WallPatterns([]);

  constructor(readonly patterns: readonly WallPattern[]) {}

  /** Exact patterns for the walls given: a ticket's grants. */
  static exactly(walls: readonly string[]): WallPatterns {
    return new WallPatterns(walls.map((wall) => ({ source: wall, pieces: [wall] })));
  }

  get isEmpty(): boolean {
    return this.patterns.length === 0;
  }

  matches(wall: string): boolean {
    return this.patterns.some((pattern) => matchesWall(pattern, wall));
  }

  /** `team-*,main`: as a setting is written, and as the start-up log shows it. */
  toString(): string {
    return this.patterns.map((pattern) => pattern.source).join(',');
  }

  toJSON(): string {
    return this.toString();
  }
}

/**
 * A comma-separated list such as `team-*, main`: spaces around entries are
 * dropped; an empty entry (two commas in a row) is refused. Throws a
 * WallPatternError naming the first bad entry.
 */
export function parseWallPatternList(raw: string): WallPatterns {
  if (raw.trim() === '') return WallPatterns.none;
  return new WallPatterns(raw.split(',').map((entry) => parseWallPattern(entry.trim())));
}
