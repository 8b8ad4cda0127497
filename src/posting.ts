/**
 * The one path of a post, whichever door it came in by (the JSON API, the
 * page's form, the Tornado-compat `/a/message/new`):
 *
 *     authorise → read the door's fields → validate → rate-limit → append
 *
 * Authorise: the publish token, or a token with a `post` grant (whose
 * `name` is then the author and `sub` the `authorId`), or nobody at all on
 * a wall anyone may post to (auth/access.ts).
 *
 * A rule added here holds for every door. After `append` the store feeds
 * the message to its live feed, and from there the hub writes it to every
 * stream of the wall (see server.ts for the one line that connects them).
 */

import { nanoid } from 'nanoid';
import type { Auth } from './auth/create-auth.js';
import type { Credential, Identity } from './auth/identity.js';
import type { Config } from './config.js';
import { ApiError, unavailable } from './errors.js';
import { bearerMatches } from './http/request.js';
import type { Lifecycle } from './lifecycle.js';
import { MAX_AUTHOR_CHARS, type Message, type NewMessage } from './message.js';
import type { Metrics } from './metrics.js';
import { checkAuthorName, codePoints, LONE_SURROGATE } from './plain-text.js';
import type { PostBudget } from './rate-limit.js';
import { type MessageStore, StoreUnavailableError, WallLimitError } from './store/store.js';
import { renderMessageHtml } from './views/message-html.js';

/** An idempotency key: 1–255 printable ASCII characters (a UUID, say). */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** A post as a door hands it over. */
export interface PostAttempt {
  wall: string;
  /** The `Authorization` header, checked against the publish token when one is set. */
  authorization: string | undefined;
  /** The request's token (header or cookie), read when the publish token did not match; may throw token_invalid. */
  credential(): Credential | undefined;
  /** The same-origin check of form posts, run for a post whose token came in a cookie. */
  assertSameOrigin(): void;
  /** Who is posting, for the rate limit: the client's address (see http/client-address.ts). */
  client: string;
  /** The `Idempotency-Key` header; a form may send it as its `idempotency_key` field instead. */
  idempotencyKey: string | undefined;
  /**
   * Reads the request's fields and runs the door's own checks (body type,
   * same origin, XSRF). Called only once the post is authorised, so an
   * unauthorised client costs no body read.
   */
  readFields(): Promise<Record<string, unknown>>;
}

/** A stored post; `replayed` when an earlier post with the same idempotency key is what was stored. */
export interface Posted {
  message: Message;
  replayed: boolean;
}

export class Posting {
  constructor(
    private readonly config: Config,
    private readonly store: MessageStore,
    private readonly metrics: Metrics,
    private readonly lifecycle: Lifecycle,
    /** The per-client post budget; undefined when there is no rate limit. */
    private readonly budget: PostBudget | undefined,
    private readonly auth: Auth,
  ) {}

  /** Stores the post and answers it as stored, or throws the error that says why not. */
  async post(attempt: PostAttempt): Promise<Posted> {
    const started = performance.now();
    const posted = await this.#post(attempt);
    if (!posted.replayed) this.metrics.postSeconds.observe((performance.now() - started) / 1000);
    return posted;
  }

  async #post(attempt: PostAttempt): Promise<Posted> {
    if (this.lifecycle.draining) throw unavailable('The server is restarting; post again in a moment.', 'draining');
    const identity = await this.#authorise(attempt);
    const fields = await attempt.readFields();
    const body = validateBody(fields.body, this.config.maxBodyChars);
    // A verified author is the token's: an `author` field sent beside it is ignored.
    const author = identity === undefined ? validateAuthor(fields.author) : identity.name;
    const idempotencyKey = parseIdempotencyKey(attempt.idempotencyKey ?? fields.idempotency_key);
    const draft = createMessage(attempt.wall, author, body, new Date(), identity?.sub ?? null);
    const waitSeconds = (await this.budget?.take(attempt.client)) ?? 0;
    if (waitSeconds > 0) {
      // A retry of a post that was stored is answered, not refused: it stores nothing.
      const first = idempotencyKey === undefined ? undefined : await this.store.findPost(attempt.wall, idempotencyKey);
      if (first !== undefined) return this.#replayed(first, draft);
      throw new ApiError('rate_limited', `Too many posts; try again in ${waitSeconds} s.`, {
        'Retry-After': String(waitSeconds),
      });
    }
    let message: Message;
    try {
      message = await this.store.append(draft, { idempotencyKey });
    } catch (error) {
      if (error instanceof StoreUnavailableError) this.metrics.postsFailed.inc();
      // Nothing was stored: the post does not count against the client's budget.
      if (error instanceof WallLimitError || (error instanceof StoreUnavailableError && !error.uncertain)) {
        await this.budget?.refund(attempt.client);
      }
      throw error;
    }
    if (message.id === draft.id) {
      this.metrics.posts.inc();
      return { message, replayed: false };
    }
    await this.budget?.refund(attempt.client);
    return this.#replayed(message, draft);
  }

  /**
   * Who posts: undefined for an anonymous post (or one with the publish
   * token), else the verified identity. With a publish token set, a post
   * without a token's grant needs the publish token, as it always did.
   */
  async #authorise(attempt: PostAttempt): Promise<Identity | undefined> {
    const publishToken = this.config.publishToken;
    if (publishToken !== undefined && bearerMatches(attempt.authorization, publishToken)) return undefined;
    const identity = this.auth.keyConfigured
      ? await this.auth.authorize(attempt.credential(), 'post', [attempt.wall])
      : undefined;
    if (publishToken !== undefined && identity === undefined) {
      throw new ApiError('unauthorized', 'Posting needs "Authorization: Bearer <token>".');
    }
    if (identity?.via === 'cookie') attempt.assertSameOrigin();
    return identity;
  }

  /** The answer to a post whose key was used before: a retry of that post, or a mistake. */
  #replayed(first: Message, draft: NewMessage): Posted {
    if (first.body !== draft.body || first.author !== draft.author || first.authorId !== draft.authorId) {
      throw new ApiError(
        'idempotency_key_reused',
        'This Idempotency-Key was already used for another message; use a new key for a new post.',
      );
    }
    this.metrics.postsReplayed.inc();
    return { message: first, replayed: true };
  }
}

function parseIdempotencyKey(raw: unknown): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string' || !IDEMPOTENCY_KEY.test(raw)) {
    throw new ApiError(
      'invalid_idempotency_key',
      'An Idempotency-Key is 1 to 255 printable ASCII characters, such as a UUID.',
    );
  }
  return raw;
}

/** Builds a new message from validated text: a fresh nanoid, the time, and its HTML. */
export function createMessage(
  wall: string,
  author: string,
  body: string,
  now = new Date(),
  authorId: string | null = null,
): NewMessage {
  const id = nanoid();
  const html = renderMessageHtml(id, author, body, authorId !== null);
  return { id, wall, author, authorId, body, html, createdAt: now.toISOString() };
}

/** C0 controls other than tab and LF (CR is normalised away before this check). */
const FORBIDDEN_IN_BODY = /[\u0000-\u0008\u000b-\u001f]/;
export function validateBody(raw: unknown, maxBodyChars: number): string {
  if (typeof raw !== 'string') {
    throw new ApiError('invalid_body', 'The message needs a "body" text field.');
  }
  const body = raw.replace(/\r\n?/g, '\n');
  if (FORBIDDEN_IN_BODY.test(body) || LONE_SURROGATE.test(body)) {
    throw new ApiError(
      'invalid_body',
      'The body contains a control character; only text, tabs and line breaks are allowed.',
    );
  }
  const trimmed = body.trim();
  const length = codePoints(trimmed);
  if (length === 0) throw new ApiError('invalid_body', 'The body is empty; write something.');
  if (length > maxBodyChars) {
    throw new ApiError('invalid_body', `The body is ${length} characters long; the limit is ${maxBodyChars}.`);
  }
  return trimmed;
}

export function validateAuthor(raw: unknown): string {
  if (raw === undefined || raw === null) return '';
  if (typeof raw !== 'string') {
    throw new ApiError('invalid_author', 'The author must be text.');
  }
  const checked = checkAuthorName(raw);
  if ('name' in checked) return checked.name;
  if (checked.problem === 'control_character') {
    throw new ApiError('invalid_author', 'The author name contains a control character.');
  }
  throw new ApiError('invalid_author', `The author name is longer than ${MAX_AUTHOR_CHARS} characters.`);
}
