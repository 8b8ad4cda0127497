import { Hono } from 'hono';
import { validator } from 'hono/validator';
import type { AppDeps, AppEnv } from '../app-deps.js';
import { ApiError } from '../errors.js';
import { postAttempt } from '../http/post-attempt.js';
import { readPostFields } from '../http/post-body.js';
import { bearerMatches, DEFAULT_PAGE_SIZE, PAGE_BYTES, parseAfter, parseCount, parseNext } from '../http/request.js';
import { assertSameOrigin } from '../http/same-origin.js';
import { wallParam } from '../http/validators.js';
import { messagesOf, type ReadResult, resumeCursor } from '../store/store.js';

/**
 * Posting, reading and moderating the messages of one wall. Mounted at
 * `/api/walls/:wall` and, for `main`, at `/api`.
 */
export function messageRoutes(deps: AppDeps): Hono<AppEnv> {
  const { config, store, posting, clients } = deps;
  const pageQuery = validator('query', (query: Record<string, string | string[] | undefined>) => ({
    limit: parseCount(query.limit, 'limit', DEFAULT_PAGE_SIZE, 1, config.historySize),
    after: parseAfter(query.after),
  }));

  return new Hono<AppEnv>()
    .post('/messages', wallParam, async (c) => {
      const { wall } = c.req.valid('param');
      let next: string | undefined;
      const { message, replayed } = await posting.post(
        postAttempt(c, clients, wall, async () => {
          const { fields, isForm } = await readPostFields(c.env.incoming, config.maxRequestBytes);
          if (isForm) {
            assertSameOrigin(c, config.corsOrigins);
            next = parseNext(fields.next);
          }
          return fields;
        }),
      );
      // Back to the page, at the new message (a no-JS page then shows it in view).
      if (next !== undefined) return c.redirect(`${next.split('#')[0]}#m${message.id}`, 303);
      c.header('Location', `/api/walls/${wall}/messages/${message.id}`);
      if (replayed) c.header('Idempotent-Replayed', 'true');
      return c.json(message, 201);
    })
    .get('/messages', wallParam, pageQuery, async (c) => {
      const { wall } = c.req.valid('param');
      const { limit, after } = c.req.valid('query');
      const page = await store.read(wall, { after, limit, maxBytes: PAGE_BYTES });
      return c.json(pageBody(page));
    })
    .get('/messages/:id', wallParam, async (c) => {
      const message = await store.get(c.req.valid('param').wall, c.req.param('id'));
      if (message === undefined) throw new ApiError('not_found', 'There is no such message on this wall.');
      return c.json(message);
    })
    .delete('/messages/:id', wallParam, async (c) => {
      if (config.adminToken === undefined) {
        throw new ApiError('not_found', 'Deleting messages is not enabled here (WALLCAST_ADMIN_TOKEN is not set).');
      }
      if (!bearerMatches(c.req.header('Authorization'), config.adminToken)) {
        throw new ApiError('unauthorized', 'Deleting needs "Authorization: Bearer <admin token>".');
      }
      const deleted = await store.delete(c.req.valid('param').wall, c.req.param('id'));
      if (deleted === undefined) throw new ApiError('not_found', 'There is no such message on this wall.');
      return c.body(null, 204);
    });
}

function pageBody(page: ReadResult) {
  return { messages: messagesOf(page.events), cursor: resumeCursor(page), reset: page.reset !== undefined };
}
