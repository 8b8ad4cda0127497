/**
 * Tornado chat demo compatibility (wall `main`): the seed's `chat.js` and its
 * form work unchanged. `POST /a/message/new` posts; `POST /a/message/updates`
 * long-polls for messages after a message id, as `MessageBuffer` did.
 */

import type { Context } from 'hono';
import { Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import type { AppDeps, AppEnv } from '../app.js';
import { ApiError } from '../errors.js';
import { assertSameOrigin, parseNext } from '../http.js';
import { createMessage, type Message, validateAuthor, validateBody } from '../message.js';
import { readPostFields } from '../post-body.js';
import { messagesOf } from '../store/store.js';
import { DEFAULT_WALL } from '../wall.js';
import { appendOrUnavailable, DEFAULT_PAGE_SIZE, orUnavailable } from './messages.js';

/** The fields the seed's client reads from a message. */
function seedMessage(message: Message) {
  return { id: message.id, body: message.body, html: message.html };
}

export function compatRoutes(deps: AppDeps): Hono<AppEnv> {
  const { config, store } = deps;
  const routes = new Hono<AppEnv>();
  // Long polls waiting for the next event on `main`, woken by the live feed.
  const waiting = new Set<() => void>();
  const wakeAll = () => {
    for (const wake of waiting) wake();
    waiting.clear();
  };
  store.onEvent((wall) => {
    if (wall === DEFAULT_WALL && waiting.size > 0) wakeAll();
  });
  deps.lifecycle.onDrain(wakeAll);

  const readForm = async (c: Context<AppEnv>) => {
    const { fields, isForm } = await readPostFields(c, config.maxRequestBytes);
    if (isForm) assertSameOrigin(c);
    // Tornado's check_xsrf_cookie: the form field (or X-XSRFToken header) must equal the cookie.
    const cookie = getCookie(c, '_xsrf');
    const sent = typeof fields._xsrf === 'string' ? fields._xsrf : c.req.header('X-XSRFToken');
    if (cookie === undefined || cookie === '' || sent !== cookie) {
      throw new ApiError('forbidden', 'The _xsrf field does not match the _xsrf cookie; reload the page.');
    }
    return fields;
  };

  routes.post('/a/message/new', async (c) => {
    const fields = await readForm(c);
    const body = validateBody(fields.body, config.maxBodyChars);
    const author = validateAuthor(fields.author);
    const next = parseNext(fields.next);
    const message = await appendOrUnavailable(deps, createMessage(DEFAULT_WALL, author, body));
    if (next !== undefined) return c.redirect(next, 303);
    return c.json(seedMessage(message));
  });

  routes.post('/a/message/updates', async (c) => {
    const fields = await readForm(c);
    const cursorId = typeof fields.cursor === 'string' ? fields.cursor : '';
    const deadline = Date.now() + config.longPollMs;
    const signal = c.req.raw.signal;
    for (;;) {
      let wake: () => void = () => {};
      const woken = new Promise<void>((resolve) => {
        wake = resolve;
      });
      // Registered before the read: a message stored in between still wakes us.
      waiting.add(wake);
      const messages = await messagesAfter(cursorId);
      if (messages.length > 0) {
        waiting.delete(wake);
        return c.json({ messages: messages.map(seedMessage) });
      }
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0 || signal.aborted || deps.lifecycle.draining) {
        waiting.delete(wake);
        // `{}`, not an empty list: the seed's client re-polls on it, and backs off on [].
        return c.json({});
      }
      const timer = setTimeout(wake, remainingMs);
      const onAbort = () => wake();
      signal.addEventListener('abort', onAbort, { once: true });
      await woken;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      waiting.delete(wake);
    }
  });

  /** Messages after the one with `id`; the recent history when `id` is unknown or missing. */
  async function messagesAfter(id: string): Promise<Message[]> {
    const known = id === '' ? undefined : await orUnavailable(store.get(DEFAULT_WALL, id));
    const page = await orUnavailable(
      store.read(
        DEFAULT_WALL,
        known === undefined
          ? { limit: config.backlog || DEFAULT_PAGE_SIZE }
          : { after: known.cursor, limit: config.historySize },
      ),
    );
    return messagesOf(page.events);
  }

  return routes;
}
