import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { secureHeaders } from 'hono/secure-headers';
import type { AppDeps, AppEnv } from '../app-deps.js';
import type { Identity } from '../auth/identity.js';
import { ApiError } from '../errors.js';
import { PAGE_BYTES } from '../http/request.js';
import { authorize } from '../http/request-identity.js';
import { eventBytes, messagesOf, resumeCursor } from '../store/store.js';
import { BACK_TO_THE_WALL } from '../views/error-page.js';
import { parseTimeZone, TIME_ZONE_COOKIE } from '../views/page-clock.js';
import { renderWallPage, type WallView } from '../views/wall-page.js';
import { normaliseWallName, wallPageOf, wallPagePath } from '../views/wall-path.js';
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
  'error.js': { file: 'public/error.js', type: SCRIPT },
  'announcer.js': { file: 'public/announcer.js', type: SCRIPT },
  'authors.js': { file: 'public/authors.js', type: SCRIPT },
  'compose.js': { file: 'public/compose.js', type: SCRIPT },
  'older-messages.js': { file: 'public/older-messages.js', type: SCRIPT },
  'own-posts.js': { file: 'public/own-posts.js', type: SCRIPT },
  'presence.js': { file: 'public/presence.js', type: SCRIPT },
  'relative-time.js': { file: 'public/relative-time.js', type: SCRIPT },
  'shared-stream.js': { file: 'public/shared-stream.js', type: SCRIPT },
  'timeline.js': { file: 'public/timeline.js', type: SCRIPT },
  'unread.js': { file: 'public/unread.js', type: SCRIPT },
  'wall-switcher.js': { file: 'public/wall-switcher.js', type: SCRIPT },
  'wallcast-client.js': { file: 'client/wallcast-client.js', type: SCRIPT },
  'wall.css': { file: 'public/wall.css', type: 'text/css; charset=utf-8' },
  'favicon.svg': { file: 'public/favicon.svg', type: 'image/svg+xml' },
  'favicon-unread.svg': { file: 'public/favicon-unread.svg', type: 'image/svg+xml' },
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

export interface PageRouteOptions {
  /** `GET /api/walls` is served: the page's list of walls asks it. Default false (the page shows only this browser's recent walls). */
  wallListServed?: boolean;
}

/**
 * A read this close to PAGE_BYTES may have stopped at that bound rather
 * than at the beginning of the history: the largest message is far under it.
 */
const NEAR_PAGE_BYTES = PAGE_BYTES - 64 * 1024;

/** A cursor as a query may carry it: no store's is longer (API.md, "Words"), none has a control character. */
const CURSOR_LIKE = /^[^\u0000-\u001f\u007f]{1,64}$/;

/** The server-rendered pages and their static assets. */
export function pageRoutes(deps: AppDeps, options: PageRouteOptions = {}): Hono<AppEnv> {
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

  /** The newest messages, and whether older ones exist (one more is read to know). */
  const newest = async (wall: string, notice?: string): Promise<WallView> => {
    const recent = await store.read(wall, { limit: config.backlog + 1, maxBytes: PAGE_BYTES });
    const all = messagesOf(recent.events);
    const bytes = recent.events.reduce((sum, event) => sum + eventBytes(event), 0);
    const messages = all.length > config.backlog ? all.slice(all.length - config.backlog) : all;
    const more = all.length > messages.length || bytes >= NEAR_PAGE_BYTES;
    return { messages, cursor: resumeCursor(recent), olderBefore: more ? messages[0]?.cursor : undefined, notice };
  };

  /**
   * A page of the history before `before`: live from its newest message,
   * with the way forward. A `before` the store cannot place (trimmed away,
   * another history's, malformed) shows the newest, and says so.
   */
  const older = async (wall: string, before: string): Promise<WallView> => {
    const page = await store.readBefore(wall, { before, limit: config.backlog, maxBytes: PAGE_BYTES });
    const last = page.messages.at(-1);
    if (page.reset)
      return newest(wall, `That point of #${wall} is no longer in its history: these are the newest messages.`);
    if (last === undefined)
      return newest(wall, `There is nothing in #${wall} before that point: these are the newest messages.`);
    return {
      messages: page.messages,
      cursor: last.cursor,
      olderBefore: page.more ? page.messages[0]?.cursor : undefined,
      newerAfter: last.cursor,
    };
  };

  /** A page of the history after `after`; undefined when it reaches the newest (the live page shows them). */
  const newer = async (wall: string, after: string): Promise<WallView | undefined> => {
    const page = await store.read(wall, { after, limit: config.backlog, maxBytes: PAGE_BYTES });
    if (page.reset !== undefined) {
      return newest(wall, `That point of #${wall} is no longer in its history: these are the newest messages.`);
    }
    if (resumeCursor(page) === page.head) return undefined;
    const messages = messagesOf(page.events);
    return { messages, cursor: resumeCursor(page), olderBefore: messages[0]?.cursor, newerAfter: resumeCursor(page) };
  };

  const page = async (c: Context<AppEnv>, wall: string) => {
    // A private wall without a token that reads it: the error page says so, and shows no message.
    const identity = await authorize(c.env.incoming, deps, 'read', [wall]);
    const before = cursorParam(c, 'before');
    const after = before === undefined ? cursorParam(c, 'after') : undefined;
    let view: WallView | undefined;
    if (before !== undefined) view = await older(wall, before);
    else if (after !== undefined) view = await newer(wall, after);
    // The page after a cursor that reaches the newest is the wall's own page.
    if (after !== undefined && view === undefined) return c.redirect(wallPagePath(wall), 303);
    view ??= await newest(wall);
    setXsrfCookie(c);
    c.header('Cache-Control', 'no-store');
    return c.html(
      renderWallPage(wall, view, {
        maxBodyChars: config.maxBodyChars,
        postKey: randomUUID(),
        postingNeedsToken: postingNeedsToken(wall, identity),
        postingNeedsGrant: config.publishToken === undefined,
        viewer: identity === undefined ? undefined : viewerOf(wall, identity),
        timeZone: parseTimeZone(getCookie(c, TIME_ZONE_COOKIE)),
        wallListServed: options.wallListServed,
      }),
    );
  };

  /** Nobody may post here without a token (a publish token, or a JWT's post grant), and the reader has none. */
  const postingNeedsToken = (wall: string, identity: Identity | undefined): boolean =>
    identity === undefined &&
    (config.publishToken !== undefined || deps.auth.access.refused(undefined, 'post', [wall]).length > 0);

  /** A reader with a token (its cookie): "Posting as Ann", or why not. */
  const viewerOf = (wall: string, identity: Identity) => {
    const canPost = deps.auth.access.refused(identity, 'post', [wall]).length === 0;
    return {
      name: identity.name,
      id: identity.sub,
      canPost,
      cannotPost: canPost
        ? undefined
        : `Signed in as ${identity.name}: this token can read #${wall} but not post to it.`,
    };
  };

  /**
   * `/w/Team`, `/w/team/`: the wall meant, by a permanent redirect (issue
   * 18, point 6), its query kept so that `?before=` still works.
   */
  const toWall = (c: Context<AppEnv>, wall: string) =>
    c.redirect(`${wallPagePath(wall)}${new URL(c.req.url).search}`, 301);
  /** The wall a name means, as a person would type it; a name that means none throws `invalid_wall`. */
  const wallOf = (raw: string) => normaliseWallName(raw) ?? parseWall(raw);

  return (
    new Hono<AppEnv>()
      .get('/', pageHeaders, (c) => page(c, DEFAULT_WALL))
      // The "Open a wall" box without JavaScript.
      .get('/w', pageHeaders, (c) => {
        const raw = c.req.query('wall') ?? '';
        return c.redirect(raw.trim() === '' ? '/' : wallPagePath(wallOf(raw)), 303);
      })
      .get('/w/:wall', pageHeaders, (c) => {
        const raw = c.req.param('wall');
        const wall = wallOf(raw);
        return wall === raw ? page(c, wall) : toWall(c, wall);
      })
      .get('/w/:wall/', pageHeaders, (c) => toWall(c, wallOf(c.req.param('wall'))))
      .get('/static/:name', pageHeaders, (c) => serve(c, c.req.param('name')))
      // Browsers, feed readers and bookmarks ask for it without reading the page's <link rel="icon">.
      .get('/favicon.ico', pageHeaders, (c) => serve(c, 'favicon.ico'))
      .get(BACK_TO_THE_WALL, (c) => c.redirect(backToTheWall(c)))
  );
}

/** `before` or `after` of a page's query: a cursor-like string, else a 400 that says so. */
function cursorParam(c: Context, name: 'before' | 'after'): string | undefined {
  const raw = c.req.query(name);
  if (raw === undefined || raw === '') return undefined;
  if (!CURSOR_LIKE.test(raw)) {
    throw new ApiError('invalid_cursor', `"${name}" is not a cursor: follow the page's "Older messages" link.`);
  }
  return raw;
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
