import { DEFAULT_WALL, parseWall } from '../wall.js';

/** The page of `wall`: `/` for the default wall, `/w/{wall}` for the others. */
export function wallPagePath(wall: string): string {
  return wall === DEFAULT_WALL ? '/' : `/w/${wall}`;
}

/** A path that names a wall: its page, its API (`/api/walls/{wall}/…`). */
const PATH_OF_A_WALL = /^\/(?:w|api\/walls)\/([^/?#]*)/;

/**
 * The wall page a request path belongs to, for a "back to the wall" link:
 * `/api/walls/dev/messages` (a no-JS post that failed) → `/w/dev`. Anything
 * else, or a name that is no wall's, → `/`.
 */
export function wallPageOf(path: string): string {
  const name = PATH_OF_A_WALL.exec(path)?.[1];
  if (name === undefined) return '/';
  try {
    return wallPagePath(parseWall(decodeURIComponent(name)));
  } catch {
    return '/';
  }
}
