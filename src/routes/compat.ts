/**
 * Tornado chat demo compatibility (wall `main`): the seed's `chat.js` and its
 * form work unchanged. `POST /a/message/new` posts (through the one post
 * path, so the publish token and the rate limit hold here too);
 * `POST /a/message/updates` long-polls for messages after a message id, as
 * `MessageBuffer` did.
 */

import type { Context } from 'hono';
import { Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import type { AppDeps, AppEnv } from '../app-deps.js';
import { ApiError } from '../errors.js';
import { postAttempt } from '../http/post-attempt.js';
import { readPostFields } from '../http/post-body.js';
import { DEFAULT_PAGE_SIZE, PAGE_BYTES, parseNext } from '../http/request.js';
import { assertSameOrigin } from '../http/same-origin.js';
import type { Message } from '../message.js';
import { messagesOf } from '../store/store.js';
import { DEFAULT_WALL } from '../wall.js';

/** The fields the seed's client reads from a message. */
function seedMessage(message: Message) {
  return { id: message.id, body: message.body, html: message.html };
}

export function compatRoutes(deps: AppDeps): Hono<AppEnv> {
  const { config, store, posting, clients } = deps;
  const { longPolls } = deps;

  /** The form as Tornado checks it: same origin, and the `_xsrf` field (or X-XSRFToken header) equal to the cookie. */
  const readForm = async (c: Context<AppEnv>) => {
    const { fields, isForm } = await readPostFields(c.env.incoming, config.maxRequestBytes);
    if (isForm) assertSameOrigin(c);
    const cookie = getCookie(c, '_xsrf');
    const sent = typeof fields._xsrf === 'string' ? fields._xsrf : c.req.header('X-XSRFToken');
    if (cookie === undefined || cookie === '' || sent !== cookie) {
      throw new ApiError('forbidden', 'The _xsrf field does not match the _xsrf cookie; reload the page.');
    }
    return fields;
  };

  /** Messages after the one with `id`; the recent history when `id` is unknown or missing. */
  const messagesAfter = async (id: string): Promise<Message[]> => {
    const known = id === '' ? undefined : await store.get(DEFAULT_WALL, id);
    const page = await store.read(
      DEFAULT_WALL,
      known === undefined
        ? { limit: config.backlog || DEFAULT_PAGE_SIZE, maxBytes: PAGE_BYTES }
        : { after: known.cursor, limit: config.historySize, maxBytes: PAGE_BYTES },
    );
    return messagesOf(page.events);
  };

  return new Hono<AppEnv>()
    .post('/a/message/new', async (c) => {
      let next: string | undefined;
      const { message } = await posting.post(
        postAttempt(c, clients, DEFAULT_WALL, async () => {
          const fields = await readForm(c);
          next = parseNext(fields.next);
          return fields;
        }),
      );
      if (next !== undefined) return c.redirect(next, 303);
      return c.json(seedMessage(message));
    })
    .post('/a/message/updates', async (c) => {
      const fields = await readForm(c);
      const cursorId = typeof fields.cursor === 'string' ? fields.cursor : '';
      const deadline = Date.now() + config.longPollMs;
      const signal = c.req.raw.signal;
      for (;;) {
        // Waiting before the read: a message stored in between still wakes us.
        const poll = longPolls.wait(DEFAULT_WALL, Math.max(0, deadline - Date.now()), signal);
        const messages = await messagesAfter(cursorId);
        if (messages.length > 0) {
          poll.cancel();
          return c.json({ messages: messages.map(seedMessage) });
        }
        if (Date.now() >= deadline || signal.aborted || deps.lifecycle.draining) {
          poll.cancel();
          // `{}`, not an empty list: the seed's client re-polls on it, and backs off on [].
          return c.json({});
        }
        await poll.woken;
      }
    });
}
