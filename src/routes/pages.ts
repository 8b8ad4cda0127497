import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { secureHeaders } from 'hono/secure-headers';
import type { AppDeps, AppEnv } from '../app-deps.js';
import { ApiError } from '../errors.js';
import { PAGE_BYTES } from '../http/request.js';
import { authorize } from '../http/request-identity.js';
import { BACK_TO_THE_WALL } from '../views/error-page.js';
import { renderWallPage } from '../views/wall-page.js';
import { wallPageOf } from '../views/wall-path.js';
import { DEFAULT_WALL, parseWall } from '../wall.js';

/** Tornado's `_xsrf` as `chat.js` reads it: letters and digits only. */
const XSRF_VALUE = /^[A-Za-z0-9]{16,64}$/;

const SCRIPT = 'text/javascript; charset=utf-8';

/**
 * The page's static files, by the name they are served at (`/static/{name}`),
 * each read once at start. The client is the package's own `client/` module:
 * the page runs the same code that other sites and Node programs import.
 */
const ASSETS: Record<string, { file: string; type: string }> = {
  'wall.js': { file: 'public/wall.js', type: SCRIPT },
  'compose.js': { file: 'public/compose.js', type: SCRIPT },
  'relative-time.js': { file: 'public/relative-time.js', type: SCRIPT },
  'shared-stream.js': { file: 'public/shared-stream.js', type: SCRIPT },
  'timeline.js': { file: 'public/timeline.js', type: SCRIPT },
  'wallcast-client.js': { file: 'client/wallcast-client.js', type: SCRIPT },
  'wall.css': { file: 'public/wall.css', type: 'text/css; charset=utf-8' },
  'favicon.svg': { file: 'public/favicon.svg', type: 'image/svg+xml' },
  'favicon.ico': { file: 'public/favicon.ico', type: 'image/x-icon' },
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
    Object.entries(ASSETS).map(([name, { file, type }]) => [
      name,
      { type, body: readFileSync(new URL(`../../${file}`, import.meta.url)) },
    ]),
  );
  const serve = (c: Context<AppEnv>, name: string) => {
    const asset = assets.get(name);
    if (asset === undefined) throw new ApiError('not_found', 'There is no such file.');
    c.header('Content-Type', asset.type);
    c.header('Cache-Control', 'public, max-age=300');
    return c.body(new Uint8Array(asset.body));
  };

  const page = async (c: Context<AppEnv>, wall: string) => {
    // A private wall's page needs a read grant (issue 16); a refusal is the small HTML error page.
    await authorize(c.env.incoming, deps, 'read', [wall]);
    const recent = await store.read(wall, { limit: config.backlog, maxBytes: PAGE_BYTES });
    setXsrfCookie(c);
    c.header('Cache-Control', 'no-store');
    return c.html(
      renderWallPage(wall, recent, {
        maxBodyChars: config.maxBodyChars,
        postKey: randomUUID(),
        postingNeedsToken: config.publishToken !== undefined,
      }),
    );
  };

  return (
    new Hono<AppEnv>()
      .get('/', pageHeaders, (c) => page(c, DEFAULT_WALL))
      .get('/w/:wall', pageHeaders, (c) => page(c, parseWall(c.req.param('wall'))))
      .get('/static/:name', pageHeaders, (c) => serve(c, c.req.param('name')))
      // Browsers, feed readers and bookmarks ask for it without reading the page's <link rel="icon">.
      .get('/favicon.ico', pageHeaders, (c) => serve(c, 'favicon.ico'))
      .get(BACK_TO_THE_WALL, (c) => c.redirect(backToTheWall(c)))
  );
}

/**
 * The error page's "back to the wall" link: the wall of the page the error
 * was shown at, which a no-JS post's error page (at the wall's API path)
 * names in the Referer; `/` when there is none, or it is another site's.
 */
function backToTheWall(c: Context): string {
  const referer = c.req.header('Referer');
  if (referer === undefined) return '/';
  try {
    const from = new URL(referer);
    return from.host === c.req.header('Host') ? wallPageOf(from.pathname) : '/';
  } catch {
    return '/';
  }
}

function setXsrfCookie(c: Context): void {
  const current = getCookie(c, '_xsrf');
  if (current !== undefined && XSRF_VALUE.test(current)) return;
  setCookie(c, '_xsrf', randomBytes(24).toString('hex'), { path: '/', sameSite: 'Lax' });
}
