import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../app.js';
import { ApiError, unavailable } from '../errors.js';
import { assertSameOrigin, parseCount, parseNext } from '../http.js';
import { createMessage, type Message, type NewMessage, validateAuthor, validateBody } from '../message.js';
import { readPostFields } from '../post-body.js';
import { RateLimiter } from '../rate-limit.js';
import { messagesOf, type ReadResult, resumeCursor } from '../store/store.js';
import { DEFAULT_WALL, parseWall } from '../wall.js';

/** Messages a history read returns without `limit` (API.md: default 50). */
export const DEFAULT_PAGE_SIZE = 50;

/** Longest `after` worth looking up: no store's cursor is longer. */
const MAX_CURSOR_CHARS = 64;

/** Posting and reading messages: `/api/walls/{wall}/messages` and the `/api/messages` aliases for `main`. */
export function messageRoutes(deps: AppDeps): Hono<AppEnv> {
  const { config, store } = deps;
  const limiter = config.rateLimit === undefined ? undefined : new RateLimiter(config.rateLimit);
  const routes = new Hono<AppEnv>();

  const post = async (c: Context<AppEnv>, wall: string) => {
    if (config.publishToken !== undefined && !hasBearer(c, config.publishToken)) {
      throw new ApiError('unauthorized', 'Posting needs "Authorization: Bearer <token>".');
    }
    const { fields, isForm } = await readPostFields(c, config.maxRequestBytes);
    if (isForm) assertSameOrigin(c);
    const body = validateBody(fields.body, config.maxBodyChars);
    const author = validateAuthor(fields.author);
    const next = isForm ? parseNext(fields.next) : undefined;
    if (limiter !== undefined) {
      const waitSeconds = limiter.take(c.env.incoming.socket.remoteAddress ?? '');
      if (waitSeconds > 0) {
        throw new ApiError('rate_limited', `Too many posts; try again in ${waitSeconds} s.`, {
          'Retry-After': String(waitSeconds),
        });
      }
    }
    const message = await appendOrUnavailable(deps, createMessage(wall, author, body));
    if (next !== undefined) return c.redirect(next, 303);
    c.header('Location', `/api/walls/${wall}/messages/${message.id}`);
    return c.json(message, 201);
  };

  const list = async (c: Context<AppEnv>, wall: string) => {
    const limit = parseCount(c.req.query('limit'), 'limit', DEFAULT_PAGE_SIZE, 1, config.historySize);
    const after = c.req.query('after');
    if (after !== undefined && (after.length > MAX_CURSOR_CHARS || /[\u0000-\u001f]/.test(after))) {
      throw new ApiError('invalid_cursor', '"after" is not a cursor: use one this API returned.');
    }
    const page = await orUnavailable(store.read(wall, after === undefined ? { limit } : { after, limit }));
    return c.json(pageBody(page));
  };

  routes.post('/walls/:wall/messages', (c) => post(c, parseWall(c.req.param('wall'))));
  routes.post('/messages', (c) => post(c, DEFAULT_WALL));
  routes.get('/walls/:wall/messages', (c) => list(c, parseWall(c.req.param('wall'))));
  routes.get('/messages', (c) => list(c, DEFAULT_WALL));
  routes.delete('/walls/:wall/messages/:id', async (c) => {
    if (config.adminToken === undefined) {
      throw new ApiError('not_found', 'Deleting messages is not enabled here (WALLCAST_ADMIN_TOKEN is not set).');
    }
    if (!hasBearer(c, config.adminToken)) {
      throw new ApiError('unauthorized', 'Deleting needs "Authorization: Bearer <admin token>".');
    }
    const wall = parseWall(c.req.param('wall'));
    const deleted = await orUnavailable(store.delete(wall, c.req.param('id')));
    if (deleted === undefined) throw new ApiError('not_found', 'There is no such message on this wall.');
    return c.body(null, 204);
  });
  routes.get('/walls/:wall/messages/:id', async (c) => {
    const message = await orUnavailable(store.get(parseWall(c.req.param('wall')), c.req.param('id')));
    if (message === undefined) throw new ApiError('not_found', 'There is no such message on this wall.');
    return c.json(message);
  });
  return routes;
}

function pageBody(page: ReadResult) {
  return { messages: messagesOf(page.events), cursor: resumeCursor(page), reset: page.reset !== undefined };
}

/** Stores a post, or answers 503: while draining, or when the store fails (nothing was stored then). */
export async function appendOrUnavailable(deps: AppDeps, draft: NewMessage): Promise<Message> {
  if (deps.lifecycle.draining) throw unavailable('The server is restarting; post again in a moment.');
  try {
    const message = await deps.store.append(draft);
    deps.metrics.posts++;
    return message;
  } catch (error) {
    deps.metrics.postsRejected++;
    if (error instanceof ApiError) throw error;
    console.error(`wallcast: append to ${draft.wall} failed: ${String(error)}`);
    throw unavailable('The message store is not available; nothing was posted. Try again shortly.');
  }
}

/** A store call other than append, or 503 when the store fails. */
export async function orUnavailable<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof ApiError) throw error;
    console.error(`wallcast: store call failed: ${String(error)}`);
    throw unavailable('The message store is not available. Try again shortly.');
  }
}

/** Compares digests, so the time taken says nothing about how much of the token matched. */
export function hasBearer(c: Context, token: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(c.req.header('Authorization') ?? ''), digest(`Bearer ${token}`));
}
