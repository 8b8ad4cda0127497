import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import type { AppDeps, AppEnv } from '../app.js';
import { ApiError } from '../errors.js';
import { escapeHtml } from '../message.js';
import { messagesOf, type ReadResult, resumeCursor } from '../store/store.js';
import { DEFAULT_WALL, parseWall } from '../wall.js';
import { orUnavailable } from './messages.js';

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
  const routes = new Hono<AppEnv>();

  const page = async (c: Context<AppEnv>, wall: string) => {
    const recent = await orUnavailable(store.read(wall, { limit: config.backlog }));
    setXsrfCookie(c);
    c.header('Cache-Control', 'no-store');
    return c.html(renderPage(wall, recent, config.maxBodyChars));
  };

  routes.get('/', (c) => page(c, DEFAULT_WALL));
  routes.get('/w/:wall', (c) => page(c, parseWall(c.req.param('wall'))));
  routes.get('/static/:name', (c) => {
    const asset = assets.get(c.req.param('name'));
    if (asset === undefined) throw new ApiError('not_found', 'There is no such file.');
    c.header('Content-Type', asset.type);
    c.header('Cache-Control', 'public, max-age=300');
    return c.body(new Uint8Array(asset.body));
  });
  return routes;
}

function setXsrfCookie(c: Context): void {
  const current = getCookie(c, '_xsrf');
  if (current !== undefined && XSRF_VALUE.test(current)) return;
  setCookie(c, '_xsrf', randomBytes(24).toString('hex'), { path: '/', sameSite: 'Lax' });
}

export function renderPage(wall: string, recent: ReadResult, maxBodyChars: number): string {
  const messages = messagesOf(recent.events).map((message) => message.html);
  const cursor = resumeCursor(recent);
  const path = wall === DEFAULT_WALL ? '/' : `/w/${wall}`;
  const name = escapeHtml(wall);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>#${name} · wallcast</title>
<link rel="stylesheet" href="/static/wall.css">
<script type="module" src="/static/wall.js"></script>
</head>
<body>
<header>
<h1>wallcast <span class="wall">#${name}</span></h1>
<p id="status" role="status" data-state="offline">Not live: reload to see new messages.</p>
</header>
<main id="inbox" data-wall="${name}" data-cursor="${escapeHtml(cursor)}" aria-live="polite">
${messages.join('\n')}
</main>
<form id="compose" method="post" action="/api/walls/${name}/messages">
<input type="hidden" name="next" value="${escapeHtml(path)}">
<input name="author" maxlength="64" placeholder="Your name (optional)" autocomplete="nickname" aria-label="Your name">
<textarea name="body" required maxlength="${maxBodyChars}" rows="2" placeholder="Write a message" aria-label="Message"></textarea>
<button type="submit">Post</button>
<p id="compose-error" class="error" role="alert" hidden></p>
</form>
</body>
</html>
`;
}
