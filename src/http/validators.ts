/** hono/validator middleware for what several routes read alike. */
import { validator } from 'hono/validator';
import { DEFAULT_WALL, parseWall } from '../wall.js';

/**
 * The wall a route is about: `:wall` under `/api/walls/:wall`, or `main`
 * under the `/api` aliases, which mount the same routes without the param.
 */
export const wallParam = validator('param', (params: Record<string, string | undefined>) => ({
  wall: parseWall(params.wall ?? DEFAULT_WALL),
}));
