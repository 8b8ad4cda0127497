import { DEFAULT_WALL, isWallName } from '../wall.js';

/** The page of `wall`: `/` for the default wall, `/w/{wall}` for the others. */
export function wallPagePath(wall: string): string {
  return wall === DEFAULT_WALL ? '/' : `/w/${wall}`;
}

/** A path that names a wall: its page, its API (`/api/walls/{wall}/…`). */
const PATH_OF_A_WALL = /^\/(?:w|api\/walls)\/([^/?#]*)/;

/** The wall a request path names, when it is a wall's name: `/w/dev`, `/api/walls/dev/messages` → `dev`. */
export function wallInPath(path: string): string | undefined {
  const name = PATH_OF_A_WALL.exec(path)?.[1];
  if (name === undefined) return undefined;
  try {
    const wall = decodeURIComponent(name);
    return isWallName(wall) ? wall : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The wall page a request path belongs to, for a "back to the wall" link:
 * `/api/walls/dev/messages` (a no-JS post that failed) → `/w/dev`. Anything
 * else, or a name that is no wall's, → `/`.
 */
export function wallPageOf(path: string): string {
  const wall = wallInPath(path);
  return wall === undefined ? '/' : wallPagePath(wall);
}

/** A wall's page path with something after the name: `/w/Team`, `/w/team/`, `/w/team/extra`. */
const PAGE_PATH = /^\/w\/([^/?#]+)/;

/**
 * The wall a person meant by a page path that names none (issue 18, point
 * 6): `/w/Team` and `/w/team/` (and `/w/Team/anything`) mean `team`.
 * Undefined when no wall is meant, or the path is that wall's page already.
 */
export function wallMeant(path: string): string | undefined {
  const raw = PAGE_PATH.exec(path)?.[1];
  if (raw === undefined) return undefined;
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  const wall = normaliseWallName(name);
  return wall === undefined || path === `/w/${wall}` ? undefined : wall;
}

/**
 * A name as a person types it into "Open a wall": `#Team`, ` Team Chat `
 * → `team`, `team-chat`. Undefined when even so it is no wall's name.
 */
export function normaliseWallName(input: string): string | undefined {
  const name = input.trim().replace(/^#/, '').trim().replace(/\s+/g, '-').toLowerCase();
  return isWallName(name) ? name : undefined;
}
