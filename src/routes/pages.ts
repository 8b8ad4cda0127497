import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import type { AppDeps, AppEnv } from '../app-deps.js';
import { ApiError } from '../errors.js';
import { renderWallPage } from '../views/wall-page.js';
import { DEFAULT_WALL, parseWall } from '../wall.js';

/** Tornado's `_xsrf` as `chat.js` reads it: letters and digits only. */
const XSRF_VALUE = /^[A-Za-z0-9]{16,64}$/;

const ASSET_TYPES: Record<string, string> = {
  'wall.js': 'text/javascript; charset=utf-8',
  'wall.css': 'text/css; charset=utf-8',
};

/** The server-rendered pages and their static assets. */
export function pageRoutes(deps: AppDeps): Hono<AppEnv> {
  const { config, store } = deps;
  const assets = new Map(
    Object.entries(ASSET_TYPES).map(([name, type]) => [
      name,
      { type, body: readFileSync(new URL(`../../public/${name}`, import.meta.url)) },
    ]),
  );

  const page = async (c: Context<AppEnv>, wall: string) => {
    const recent = await store.read(wall, { limit: config.backlog });
    setXsrfCookie(c);
    c.header('Cache-Control', 'no-store');
    return c.html(renderWallPage(wall, recent, config.maxBodyChars));
  };

  return new Hono<AppEnv>()
    .get('/', (c) => page(c, DEFAULT_WALL))
    .get('/w/:wall', (c) => page(c, parseWall(c.req.param('wall'))))
    .get('/static/:name', (c) => {
      const asset = assets.get(c.req.param('name'));
      if (asset === undefined) throw new ApiError('not_found', 'There is no such file.');
      c.header('Content-Type', asset.type);
      c.header('Cache-Control', 'public, max-age=300');
      return c.body(new Uint8Array(asset.body));
    });
}

function setXsrfCookie(c: Context): void {
  const current = getCookie(c, '_xsrf');
  if (current !== undefined && XSRF_VALUE.test(current)) return;
  setCookie(c, '_xsrf', randomBytes(24).toString('hex'), { path: '/', sameSite: 'Lax' });
}
