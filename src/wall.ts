import { ApiError } from './errors.js';

/** Wall names: 1–64 of `a-z 0-9 _ -`, starting with a letter or digit. */
const WALL_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export const DEFAULT_WALL = 'main';

export function parseWall(name: string | undefined): string {
  if (name === undefined || !WALL_NAME.test(name)) {
    throw new ApiError(
      'invalid_wall',
      'A wall name is 1–64 characters of a-z, 0-9, "_" and "-", starting with a letter or digit.',
    );
  }
  return name;
}
