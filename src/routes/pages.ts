import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { secureHeaders } from 'hono/secure-headers';
import type { AppDeps, AppEnv } from '../app-deps.js';
import { ApiError } from '../errors.js';
import { PAGE_BYTES } from '../http/request.js';
import { renderWallPage } from '../views/wall-page.js';
import { DEFAULT_WALL, parseWall } from '../wall.js';

/** Tornado's `_xsrf` as `chat.js` reads it: letters and digits only. */
const XSRF_VALUE = /^[A-Za-z0-9]{16,64}$/;

const ASSET_TYPES: Record<string, string> = {
  'wall.js': 'text/javascript; charset=utf-8',
  'wall.css': 'text/css; charset=utf-8',
};

/**
 * Pages run only our own script and style, are never framed, and send no
 * referrer to the sites their messages link to. (After `next()`, as
 * secure-headers sets them: fine for pages, never for event streams.)
 */
const pageHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  },
  xFrameOptions: 'DENY',
  referrerPolicy: 'same-origin',
  // Plain HTTP is a supported deployment (behind a TLS proxy, or on localhost).
  strictTransportSecurity: false,
});

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
    const recent = await store.read(wall, { limit: config.backlog, maxBytes: PAGE_BYTES });
    setXsrfCookie(c);
    c.header('Cache-Control', 'no-store');
    return c.html(renderWallPage(wall, recent, config.maxBodyChars, randomUUID()));
  };

  return new Hono<AppEnv>()
    .get('/', pageHeaders, (c) => page(c, DEFAULT_WALL))
    .get('/w/:wall', pageHeaders, (c) => page(c, parseWall(c.req.param('wall'))))
    .get('/static/:name', pageHeaders, (c) => {
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
