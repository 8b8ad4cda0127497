/**
 * Walls as such: `GET /api/walls` lists the walls with history by their
 * last activity (issue 18), paged; `GET /api/walls/{wall}/presence` says how
 * many people are on one now (issue 17). A private wall is listed, and its
 * presence told, only to a caller who may read it.
 */
import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../app-deps.js';
import { ApiError } from '../errors.js';
import { parseCount } from '../http/request.js';
import { authorize } from '../http/request-identity.js';
import { wallParam } from '../http/validators.js';
import { MAX_WALLS_LISTED, parseWallListCursor } from '../store/store.js';

/** Walls listed when `limit` is not given. */
const DEFAULT_WALLS_LISTED = 50;

export function wallRoutes(deps: AppDeps): Hono<AppEnv> {
  const { store, auth, presence } = deps;
  return new Hono<AppEnv>()
    .get('/api/walls', async (c) => {
      const limit = parseCount(c.req.query('limit'), 'limit', DEFAULT_WALLS_LISTED, 1, MAX_WALLS_LISTED);
      const after = c.req.query('after');
      if (after !== undefined && parseWallListCursor(after) === undefined) {
        throw new ApiError('invalid_cursor', '"after" is not a wall list cursor: use the "next" this API returned.');
      }
      // Who asks, for the private walls they may see: anyone may list the others, so a
      // stale cookie counts as no token here, as on every wall anyone may read (auth/create-auth.ts).
      const identity = await authorize(c.env.incoming, deps, 'read', []);
      const page = await store.listWalls({ limit, after });
      const walls = page.walls
        .filter(({ wall }) => auth.access.refused(identity, 'read', [wall]).length === 0)
        .map(({ wall, lastActivityAt }) => ({ wall, lastActivityAt }));
      return c.json({ walls, next: page.next ?? null });
    })
    .get('/api/walls/:wall/presence', wallParam, async (c) => {
      const { wall } = c.req.valid('param');
      await authorize(c.env.incoming, deps, 'read', [wall]);
      c.header('Cache-Control', 'no-store');
      const { online } = await presence.snapshot(wall, { members: false });
      return c.json({ wall, online });
    });
}
