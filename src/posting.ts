/**
 * The one path of a post, whichever door it came in by (the JSON API, the
 * page's form, the Tornado-compat `/a/message/new`):
 *
 *     authorise → read the door's fields → validate → rate-limit → append
 *
 * A rule added here holds for every door. After `append` the store feeds
 * the message to its live feed, and from there the hub writes it to every
 * stream of the wall (see server.ts for the one line that connects them).
 */
import type { Config } from './config.js';
import { ApiError, unavailable } from './errors.js';
import { bearerMatches } from './http/request.js';
import type { Lifecycle } from './lifecycle.js';
import { createMessage, type Message, validateAuthor, validateBody } from './message.js';
import type { Metrics } from './metrics.js';
import { RateLimiter } from './rate-limit.js';
import { type MessageStore, StoreUnavailableError } from './store/store.js';

/** A post as a door hands it over. */
export interface PostAttempt {
  wall: string;
  /** The `Authorization` header, checked against the publish token when one is set. */
  authorization: string | undefined;
  /** Who is posting, for the rate limit: the client's address. */
  client: string;
  /**
   * Reads the request's fields and runs the door's own checks (body type,
   * same origin, XSRF). Called only once the post is authorised, so an
   * unauthorised client costs no body read.
   */
  readFields(): Promise<Record<string, unknown>>;
}

export class Posting {
  readonly #limiter: RateLimiter | undefined;

  constructor(
    private readonly config: Config,
    private readonly store: MessageStore,
    private readonly metrics: Metrics,
    private readonly lifecycle: Lifecycle,
  ) {
    this.#limiter = config.rateLimit === undefined ? undefined : new RateLimiter(config.rateLimit);
  }

  /** Stores the post and answers it as stored, or throws the ApiError that says why not. */
  async post(attempt: PostAttempt): Promise<Message> {
    if (this.lifecycle.draining) throw unavailable('The server is restarting; post again in a moment.');
    const token = this.config.publishToken;
    if (token !== undefined && !bearerMatches(attempt.authorization, token)) {
      throw new ApiError('unauthorized', 'Posting needs "Authorization: Bearer <token>".');
    }
    const fields = await attempt.readFields();
    const body = validateBody(fields.body, this.config.maxBodyChars);
    const author = validateAuthor(fields.author);
    this.#takeFromBudget(attempt.client);
    try {
      const message = await this.store.append(createMessage(attempt.wall, author, body));
      this.metrics.posts++;
      return message;
    } catch (error) {
      if (error instanceof StoreUnavailableError) this.metrics.postsRejected++;
      throw error;
    }
  }

  #takeFromBudget(client: string): void {
    const waitSeconds = this.#limiter?.take(client) ?? 0;
    if (waitSeconds > 0) {
      throw new ApiError('rate_limited', `Too many posts; try again in ${waitSeconds} s.`, {
        'Retry-After': String(waitSeconds),
      });
    }
  }
}
