/** Wall names: 1–64 of `a-z 0-9 _ -`, starting with a letter or digit. */
const WALL_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** The same rule a character at a time, for what names walls by pattern (auth/wall-patterns.ts). */
export const WALL_CHARACTER = /^[a-z0-9_-]$/;
export const WALL_FIRST_CHARACTER = /^[a-z0-9]$/;
export const MAX_WALL_CHARS = 64;

export const DEFAULT_WALL = 'main';

/** The rule, in words, for error messages. */
export const WALL_NAME_RULE =
  'A wall name is 1–64 characters of a-z, 0-9, "_" and "-", starting with a letter or digit.';

/** A name that is no wall's (app.ts answers it as `400 invalid_wall`). */
export class WallNameError extends Error {
  override readonly name = 'WallNameError';

  constructor() {
    super(WALL_NAME_RULE);
  }
}

export function isWallName(name: string): boolean {
  return WALL_NAME.test(name);
}

export function parseWall(name: string | undefined): string {
  if (name === undefined || !WALL_NAME.test(name)) throw new WallNameError();
  return name;
}
