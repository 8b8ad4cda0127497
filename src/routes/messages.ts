import { Hono } from 'hono';
import { validator } from 'hono/validator';
import type { AppDeps, AppEnv } from '../app-deps.js';
import { BEARER_CHALLENGE } from '../auth/auth-failure.js';
import { ApiError } from '../errors.js';
import { postAttempt } from '../http/post-attempt.js';
import { readPostFields } from '../http/post-body.js';
import { bearerMatches, DEFAULT_PAGE_SIZE, PAGE_BYTES, parseAfter, parseCount, parseNext } from '../http/request.js';
import { authorize } from '../http/request-identity.js';
import { assertSameOrigin } from '../http/same-origin.js';
import { wallParam } from '../http/validators.js';
import { messagesOf, type OlderPage, type ReadResult, resumeCursor } from '../store/store.js';

/**
 * Posting, reading and moderating the messages of one wall. Mounted at
 * `/api/walls/:wall` and, for `main`, at `/api`. Reading a private wall
 * needs a `read` grant; deleting, the admin token or a `moderate` grant.
 */
export function messageRoutes(deps: AppDeps): Hono<AppEnv> {
  const { config, store, posting } = deps;
  const pageQuery = validator('query', (query: Record<string, string | string[] | undefined>) => {
    const after = parseAfter(query.after, 'after');
    const before = parseAfter(query.before, 'before');
    if (after !== undefined && before !== undefined) {
      throw new ApiError('invalid_cursor', 'Give "after" (newer messages) or "before" (older ones), not both.');
    }
    return { limit: parseCount(query.limit, 'limit', DEFAULT_PAGE_SIZE, 1, config.historySize), after, before };
  });

  return new Hono<AppEnv>()
    .post('/messages', wallParam, async (c) => {
      const { wall } = c.req.valid('param');
      let next: string | undefined;
      const { message, replayed } = await posting.post(
        postAttempt(c, deps, wall, async () => {
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
      const { limit, after, before } = c.req.valid('query');
      await authorize(c.env.incoming, deps, 'read', [wall]);
      if (before !== undefined) {
        return c.json(olderBody(await store.readBefore(wall, { before, limit, maxBytes: PAGE_BYTES })));
      }
      const page = await store.read(wall, { after, limit, maxBytes: PAGE_BYTES });
      return c.json(pageBody(page));
    })
    .get('/messages/:id', wallParam, async (c) => {
      const { wall } = c.req.valid('param');
      await authorize(c.env.incoming, deps, 'read', [wall]);
      const message = await store.get(wall, c.req.param('id'));
      if (message === undefined) throw new ApiError('not_found', 'There is no such message on this wall.');
      return c.json(message);
    })
    .delete('/messages/:id', wallParam, async (c) => {
      const { wall } = c.req.valid('param');
      const admin = config.adminToken !== undefined && bearerMatches(c.req.header('Authorization'), config.adminToken);
      if (!admin && deps.auth.keyConfigured) {
        await authorize(c.env.incoming, deps, 'moderate', [wall]);
      } else if (config.adminToken === undefined) {
        throw new ApiError('not_found', 'Deleting messages is not enabled here (WALLCAST_ADMIN_TOKEN is not set).');
      } else if (!admin) {
        throw new ApiError('unauthorized', 'Deleting needs "Authorization: Bearer <admin token>".', {
          'WWW-Authenticate': BEARER_CHALLENGE,
        });
      }
      const deleted = await store.delete(wall, c.req.param('id'));
      if (deleted === undefined) throw new ApiError('not_found', 'There is no such message on this wall.');
      return c.body(null, 204);
    });
}

function pageBody(page: ReadResult) {
  return { messages: messagesOf(page.events), cursor: resumeCursor(page), reset: page.reset !== undefined };
}

/**
 * A page of older messages, newest first: `cursor` is the `before` of the
 * next older page (its oldest message), `more` whether there is one. A
 * cursor older than the kept history has reached the beginning (no
 * messages, `more` false); one that is no position in this wall (`reset`)
 * gets the newest messages, as a fresh read would.
 */
function olderBody(page: OlderPage) {
  const messages = [...page.messages].reverse();
  const oldest = page.messages[0];
  const reset = page.reset !== undefined && page.reset !== 'trimmed';
  return { messages, cursor: oldest?.cursor ?? null, more: page.more, reset };
}
