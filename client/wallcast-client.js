// @ts-check
/**
 * wallcast's client, for browsers and Node ≥ 20: one plain ES module, no
 * dependency. It follows walls over one Server-Sent Events stream and
 * resumes each exactly, posts so that a retry is stored once, and reads
 * history. The wire contract is docs/API.md.
 *
 * - Streams always use `/api/events?walls=…` (one wall or up to 32): every
 *   event's id is the whole position (`a:cursorA,b:cursorB`), which the
 *   subscription keeps, so a stream reopened by the client (another set of
 *   walls, or after the browser gave up) resumes every wall where it was.
 *   The browser's own reconnects send Last-Event-ID themselves.
 * - Posts carry an Idempotency-Key, the same on every retry of that post,
 *   and retry only what may be retried (no answer, 502/503/504) within one
 *   deadline: they never hang and never store a message twice.
 * - With a signed token (`token`, or `getToken` for fresh ones; issue 16),
 *   requests send it as `Authorization: Bearer`, and streams, which an
 *   EventSource cannot give a header, open with a single-use ticket
 *   (`POST /api/tickets`, then `?ticket=`). So every connection of such a
 *   stream, the first and each reconnect, is opened by the client with a
 *   fresh ticket from the stream's position: the EventSource is never let
 *   to reconnect by itself with a ticket already used.
 */

/**
 * A posted message, as the server sends it.
 * @typedef {object} Message
 * @property {string} id a nanoid, unique for ever
 * @property {string} wall
 * @property {string} cursor its position in its wall
 * @property {string} author `""` when anonymous
 * @property {string | null} authorId the verified author's id (a token's `sub`); null for an anonymous post
 * @property {string} body
 * @property {string} html the server's escaped fragment, `<div class="message" id="m{id}">`
 * @property {string} createdAt ISO 8601, UTC
 */

/**
 * Where a stream stands: the cursor reached in each wall.
 * @typedef {Readonly<Record<string, string>>} Position
 */

/**
 * `connecting`: the first connection is being made; `live`: events arrive as
 * they are posted; `reconnecting`: the connection dropped and is being made
 * again (what was missed follows).
 * @typedef {'connecting' | 'live' | 'reconnecting'} StreamState
 */

/**
 * Who is on a wall (`event: presence`, asked with `presence`): people, not connections.
 * @typedef {object} Presence
 * @property {string} wall
 * @property {number} online
 * @property {{id: string, name: string}[]} [members] with `presence: 'members'` (a token that can read the wall)
 * @property {number} [more] members not listed
 */

/**
 * What a subscription calls. Each message reaches `onMessage` once per
 * subscription, even when a reset or a resume sends it again.
 * @typedef {object} StreamHandlers
 * @property {(message: Message, position: Position) => void} [onMessage]
 * @property {(deleted: {id: string, wall: string | undefined}, position: Position) => void} [onDelete] a moderator deleted message `id`
 * @property {(reset: {reason: string, wall: string | undefined}, position: Position) => void} [onReset] the wall's position could not be resumed (`trimmed`, `unknown`, `epoch`, `malformed`): its newest messages follow
 * @property {(state: StreamState) => void} [onState]
 * @property {(presence: Presence) => void} [onPresence] who is on a wall, when `presence` was asked (it moves no position)
 * @property {(error: WallcastError) => void} [onError] the stream stopped for good because it could not be authorised (`getToken` failed, the token or ticket was refused again after a fresh one, `insufficient_scope`): called once, and nothing more is tried; subscribe again, from `position`, when a token can be had
 */

/**
 * @typedef {object} SubscribeOptions
 * @property {Record<string, string>} [position] the cursor to resume each wall from (a message's `cursor`, a page's `data-cursor`); a wall without one starts with its newest `backlog` messages
 * @property {number} [backlog] messages a wall without a position starts with (server default 50; 0: live only)
 * @property {'count' | 'members'} [presence] ask for `event: presence` on every wall of the stream
 * @property {string} [clientId] this browser's id (8–64 of `A-Za-z0-9_-`): its streams count as one person
 */

/**
 * The smallest EventSource this client needs: the browser's, or the
 * `eventsource` npm package's in Node.
 * @typedef {object} EventSourceLike
 * @property {number} readyState 0 connecting, 1 open, 2 closed
 * @property {() => void} close
 * @property {(type: string, listener: (event: MessageEvent) => void) => void} addEventListener
 */

/** @typedef {new (url: string) => EventSourceLike} EventSourceConstructor */

/**
 * @typedef {object} ClientOptions
 * @property {string} [baseUrl] the server, e.g. `https://wall.example`; default: the page's own origin
 * @property {string} [token] a signed token (JWT) sent as `Authorization: Bearer …` with every request, and exchanged for tickets to open streams; or the publish or admin token (not a JWT: sent as is, no ticket)
 * @property {() => Promise<string>} [getToken] gets a fresh JWT: called when a token is first needed (unless `token` is given), when a stream is told to re-authenticate (`event: reauth`), and after a `401 token_expired` or a refused ticket; never more than one call at a time, each within `timeoutMs`
 * @property {typeof fetch} [fetch] default: `globalThis.fetch`
 * @property {EventSourceConstructor} [EventSource] default: `globalThis.EventSource` (in Node, pass the `eventsource` package's)
 * @property {number} [timeoutMs] how long a post (all its retries), a read or a `getToken` call may take; default 10 000
 */

/**
 * @typedef {object} PostOptions
 * @property {string} [idempotencyKey] default: a new random key. Pass the same key to post the same message again (after a failure) and have it stored once.
 * @property {number} [timeoutMs] the client's `timeoutMs` unless given
 * @property {AbortSignal} [signal]
 * @property {(retry: {attempt: number, delayMs: number, error: WallcastError}) => void} [onRetry] called before each retry, e.g. to say "retrying…"
 */

/**
 * @typedef {object} Posted
 * @property {Message} message the stored message (the first one, when the key was seen before)
 * @property {boolean} replayed the server had stored this post already (`Idempotent-Replayed`)
 */

/**
 * @typedef {object} HistoryPage
 * @property {Message[]} messages oldest first
 * @property {string} cursor where to continue from
 * @property {boolean} reset `after` could not be resumed: these are the newest
 */

/**
 * A ticket for one stream, and the token it was issued for.
 * @typedef {object} Grant
 * @property {string} ticket single use, within a minute
 * @property {string} token
 */

/**
 * How a subscription opened with a token gets its tickets: the client
 * makes one for each subscription; not for use on its own.
 * @typedef {object} StreamTickets
 * @property {(walls: readonly string[], refused?: string) => Promise<Grant | undefined>} issue a ticket for `walls`; `refused`: the token of a refused stream, to be replaced by a fresh one first. Undefined when the server takes no tickets (no token key set there: it reads no token at all), so the stream opens without.
 * @property {(token: string) => void} expiring the stream of `token` was told it expires: get a fresh one now, for the reconnect
 * @property {(url: string, walls: readonly string[]) => Promise<WallcastError | undefined>} probe why a stream of `url` is refused, asked with a fresh ticket; undefined when it is not (any more)
 */

/** What a post that got no answer, or a 502/503/504, waits before its first retry; it doubles after. */
const FIRST_RETRY_MS = 250;
/** The longest wait between two retries of a post. */
const MAX_RETRY_MS = 4000;
/** Statuses that say "not now" rather than "no": a proxy's, or the server restarting or overloaded. */
const RETRYABLE_STATUSES = new Set([502, 503, 504]);
/** A stream the browser gave up on (an error status) is reopened after this, doubling up to the max. */
const FIRST_RESTART_MS = 1000;
const MAX_RESTART_MS = 30_000;
/**
 * Message ids a subscription remembers to deliver each once: more than a
 * replay or a reset sends again (the server's backlog and history are 1000
 * by default), few enough to keep for ever.
 */
const SEEN_IDS_KEPT = 5000;
/** Posts and reads give up after this unless told otherwise. */
const DEFAULT_TIMEOUT_MS = 10_000;
/**
 * A JWT in compact form (RFC 7519 §3): three base64url parts. A fixed
 * `token` of another shape is the publish or admin token, which the server
 * compares as is and takes no ticket for.
 */
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;

/**
 * A failure a person can act on: `message` says what happened in words,
 * `code` is the server's (`rate_limited`, `unavailable`, `token_expired`,
 * …) or the client's own: `network` (no answer at all), `timeout`,
 * `aborted`, `get_token_failed` (`getToken` threw, gave no token, or took
 * longer than `timeoutMs`; `cause` holds what it threw).
 */
export class WallcastError extends Error {
  /**
   * @param {string} message
   * @param {{code: string, status?: number, retryAfterSeconds?: number, idempotencyKey?: string, cause?: unknown}} details
   */
  constructor(message, details) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'WallcastError';
    /** @type {string} */
    this.code = details.code;
    /** The HTTP status; 0 when there was no answer. @type {number} */
    this.status = details.status ?? 0;
    /** The server's `Retry-After`, in seconds. @type {number | undefined} */
    this.retryAfterSeconds = details.retryAfterSeconds;
    /** The key the post was sent with: post again with it to have the message stored once. @type {string | undefined} */
    this.idempotencyKey = details.idempotencyKey;
  }
}

export class WallcastClient {
  #base;
  /** @type {TokenSource | undefined} */
  #tokens;
  /** Streams open with tickets: the token is a JWT (or `getToken` gives them). */
  #ticketed;
  #fetch;
  #EventSource;
  #timeoutMs;

  /** @param {ClientOptions} [options] */
  constructor(options = {}) {
    this.#base = baseUrlOf(options.baseUrl);
    const fetchImpl = options.fetch ?? globalThis.fetch;
    // Called unbound, `window.fetch` throws "Illegal invocation".
    this.#fetch = /** @type {typeof fetch} */ ((input, init) => fetchImpl(input, init));
    this.#EventSource =
      options.EventSource ?? /** @type {EventSourceConstructor | undefined} */ (globalThis.EventSource);
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const { token, getToken } = options;
    this.#tokens =
      token === undefined && getToken === undefined ? undefined : new TokenSource(token, getToken, this.#timeoutMs);
    this.#ticketed = getToken !== undefined || (token !== undefined && JWT_SHAPE.test(token));
  }

  /**
   * Follows `walls` (one name or up to 32) on one stream until `close()`.
   * With a token, each connection of the stream opens with a fresh ticket.
   * @param {string | readonly string[]} walls
   * @param {StreamHandlers} handlers
   * @param {SubscribeOptions} [options]
   * @returns {Subscription}
   */
  subscribe(walls, handlers, options = {}) {
    const EventSourceImpl = this.#EventSource;
    if (EventSourceImpl === undefined) {
      throw new TypeError(
        'No EventSource here: pass one, e.g. new WallcastClient({ EventSource }) from "eventsource".',
      );
    }
    const tickets = this.#ticketed ? this.#streamTickets() : undefined;
    return new Subscription(this.#url('/api/events'), EventSourceImpl, listOf(walls), handlers, options, tickets);
  }

  /**
   * Posts a message. Retries what may be retried (no answer, 502/503/504)
   * with the same Idempotency-Key until `timeoutMs`, so it is stored once;
   * after a `401 token_expired`, once more at once with a fresh token.
   * @param {string} wall
   * @param {{body: string, author?: string}} draft `author` is ignored with a token: the server posts under its `name`
   * @param {PostOptions} [options]
   * @returns {Promise<Posted>}
   * @throws {WallcastError} with `idempotencyKey`, to post the same message again
   */
  async post(wall, draft, options = {}) {
    const idempotencyKey = options.idempotencyKey ?? newIdempotencyKey();
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const deadline = Date.now() + timeoutMs;
    /** @type {Record<string, string>} */
    const headers = {
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'Idempotency-Key': idempotencyKey,
    };
    const body = JSON.stringify(draft.author === undefined ? { body: draft.body } : draft);
    const url = this.#url(`/api/walls/${encodeURIComponent(wall)}/messages`);
    let refreshed = false;
    /** @type {WallcastError | undefined} */
    let last;
    for (let attempt = 1; ; ) {
      /** @type {WallcastError} */
      let failure;
      /** @type {string | undefined} */
      let token;
      try {
        token = await this.#tokens?.current();
        if (token !== undefined) headers.Authorization = `Bearer ${token}`;
        const response = await this.#request(
          url,
          { method: 'POST', headers, body },
          deadline,
          timeoutMs,
          options.signal,
        );
        if (response.ok) {
          const message = /** @type {Message} */ (await response.json());
          return { message, replayed: response.headers.get('Idempotent-Replayed') === 'true' };
        }
        failure = await errorOf(response, idempotencyKey);
      } catch (error) {
        if (!(error instanceof WallcastError)) throw error;
        // Out of time while retrying after no answer at all: that says more than "no answer in time".
        if (error.code === 'timeout' && last?.code === 'network') throw last;
        failure = withKey(error, idempotencyKey);
      }
      // Refused before it was stored (the token is checked first): the same key again, with a fresh token.
      if (!refreshed && token !== undefined && this.#refreshable(failure)) {
        refreshed = true;
        this.#tokens?.expire(token);
        continue;
      }
      if (failure.code !== 'network' && !RETRYABLE_STATUSES.has(failure.status)) throw failure;
      last = failure;
      const delayMs = Math.max(
        (failure.retryAfterSeconds ?? 0) * 1000,
        Math.min(FIRST_RETRY_MS * 2 ** (attempt - 1), MAX_RETRY_MS),
      );
      // A retry that could not finish in time is not tried: the caller hears why now.
      if (Date.now() + delayMs >= deadline) throw failure;
      options.onRetry?.({ attempt, delayMs, error: failure });
      await sleep(delayMs, options.signal);
      attempt++;
    }
  }

  /**
   * A page of a wall's history: the newest `limit`, or the first `limit` after `after`.
   * @param {string} wall
   * @param {{after?: string, limit?: number, signal?: AbortSignal}} [options]
   * @returns {Promise<HistoryPage>}
   */
  async history(wall, options = {}) {
    const query = new URLSearchParams();
    if (options.after !== undefined) query.set('after', options.after);
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    const suffix = query.toString() === '' ? '' : `?${query}`;
    const response = await this.#send(
      'GET',
      `/api/walls/${encodeURIComponent(wall)}/messages${suffix}`,
      options.signal,
    );
    if (!response.ok) throw await errorOf(response);
    return /** @type {HistoryPage} */ (await response.json());
  }

  /**
   * One message, or undefined when there is none with this id (never posted, or deleted).
   * @param {string} wall
   * @param {string} id
   * @returns {Promise<Message | undefined>}
   */
  async message(wall, id) {
    const response = await this.#send('GET', messagePath(wall, id));
    if (response.status === 404) return undefined;
    if (!response.ok) throw await errorOf(response);
    return /** @type {Message} */ (await response.json());
  }

  /**
   * Deletes a message: needs a token with `moderate` on its wall, or the admin token.
   * @param {string} wall
   * @param {string} id
   * @returns {Promise<void>}
   * @throws {WallcastError} `not_found` when there is no such message (or deleting is not enabled), `insufficient_scope`, …
   */
  async delete(wall, id) {
    const response = await this.#send('DELETE', messagePath(wall, id));
    if (!response.ok) throw await errorOf(response);
  }

  /**
   * A read or a delete, with the token; after a `401 token_expired`, once more with a fresh one.
   * @param {'GET' | 'DELETE'} method
   * @param {string} path
   * @param {AbortSignal} [signal]
   * @returns {Promise<Response>}
   */
  async #send(method, path, signal) {
    for (let refreshed = false; ; refreshed = true) {
      const token = await this.#tokens?.current();
      /** @type {Record<string, string>} */
      const headers = { Accept: 'application/json' };
      if (token !== undefined) headers.Authorization = `Bearer ${token}`;
      const deadline = Date.now() + this.#timeoutMs;
      const response = await this.#request(this.#url(path), { method, headers }, deadline, this.#timeoutMs, signal);
      if (refreshed || token === undefined || response.status !== 401) return response;
      const failure = await errorOf(response.clone());
      if (!this.#refreshable(failure)) return response;
      this.#tokens?.expire(token);
    }
  }

  /**
   * A refusal a fresh token may cure: `401 token_expired`, when `getToken` can give one.
   * @param {WallcastError} failure
   */
  #refreshable(failure) {
    return failure.code === 'token_expired' && this.#tokens?.refreshable === true;
  }

  /** @returns {StreamTickets} */
  #streamTickets() {
    const tokens = /** @type {TokenSource} */ (this.#tokens);
    /** @type {StreamTickets['issue']} */
    const issue = async (walls, refused) => {
      if (refused !== undefined) tokens.expire(refused);
      // A refused ticket is asked again once, with a fresh token; then the refusal is the answer.
      for (let fresh = refused !== undefined; ; fresh = true) {
        const token = await tokens.current();
        const response = await this.#request(
          this.#url('/api/tickets'),
          {
            method: 'POST',
            headers: {
              'Content-Type': 'application/json',
              Accept: 'application/json',
              Authorization: `Bearer ${token}`,
            },
            body: JSON.stringify({ walls }),
          },
          Date.now() + this.#timeoutMs,
          this.#timeoutMs,
        );
        if (response.status === 201) {
          const { ticket } = /** @type {{ticket: string}} */ (await response.json());
          return { ticket, token };
        }
        // No token key on the server: it reads no token anywhere, so the stream is the same without.
        if (response.status === 404) return undefined;
        const failure = await errorOf(response);
        if (fresh || response.status !== 401 || !tokens.refreshable) throw failure;
        tokens.expire(token);
      }
    };
    return {
      issue,
      expiring: (token) => {
        tokens.expire(token);
        // Fetched now, used when the stream ends; a failure here is met again (and reported) then.
        tokens.current().catch(() => {});
      },
      probe: async (url, walls) => {
        const grant = await issue(walls);
        const target = grant === undefined ? url : `${url}&ticket=${encodeURIComponent(grant.ticket)}`;
        const deadline = Date.now() + this.#timeoutMs;
        const response = await this.#request(
          target,
          { headers: { Accept: 'application/json' } },
          deadline,
          this.#timeoutMs,
        );
        if (!response.ok) return errorOf(response);
        await response.body?.cancel();
        return undefined;
      },
    };
  }

  /**
   * One HTTP exchange, given up at `deadline`; no answer at all is a `network` error.
   * @param {string} url
   * @param {RequestInit} init
   * @param {number} deadline
   * @param {number} timeoutMs for the message only
   * @param {AbortSignal} [signal]
   * @returns {Promise<Response>}
   */
  async #request(url, init, deadline, timeoutMs, signal) {
    if (signal?.aborted) throw aborted();
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(
      () => {
        timedOut = true;
        controller.abort();
      },
      Math.max(0, deadline - Date.now()),
    );
    const cancel = () => controller.abort();
    signal?.addEventListener('abort', cancel);
    try {
      return await this.#fetch(url, { ...init, signal: controller.signal });
    } catch {
      if (timedOut) {
        throw new WallcastError(`The server did not answer within ${Math.round(timeoutMs / 1000)} s.`, {
          code: 'timeout',
        });
      }
      if (signal?.aborted) throw aborted();
      // fetch says only "Failed to fetch" (or "fetch failed"): say what it means.
      throw new WallcastError(unreachable(new URL(url)), { code: 'network' });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', cancel);
    }
  }

  /** @param {string} path */
  #url(path) {
    return `${this.#base}${path}`;
  }
}

/**
 * One stream of one or several walls. Its position moves with every event
 * (the event's id), so reopening it (`update`, or after the browser gave up
 * on the connection) resumes every wall exactly.
 */
export class Subscription {
  #endpoint;
  #EventSource;
  #handlers;
  #backlog;
  #presence;
  #clientId;
  /** @type {StreamTickets | undefined} */
  #tickets;
  /** @type {string[]} */
  #walls;
  /** @type {Map<string, string>} */
  #position;
  /** @type {EventSourceLike | undefined} */
  #source;
  /** @type {string[]} */
  #liveWalls = [];
  /** @type {StreamState} */
  #state = 'connecting';
  /** @type {Set<string>} */
  #seen = new Set();
  #restartMs = FIRST_RESTART_MS;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #restartTimer;
  /** Counts the opens begun: a ticket that comes back for an earlier one is dropped. */
  #opens = 0;
  /** Ticketed connections refused in a row, before they opened. */
  #refusals = 0;
  /** @type {WallcastError | undefined} */
  #failure;
  #closed = false;

  /**
   * @param {string} endpoint `…/api/events`
   * @param {EventSourceConstructor} EventSourceImpl
   * @param {string[]} walls
   * @param {StreamHandlers} handlers
   * @param {SubscribeOptions} options
   * @param {StreamTickets} [tickets] with a token: each connection opens with a fresh ticket
   */
  constructor(endpoint, EventSourceImpl, walls, handlers, options, tickets) {
    this.#endpoint = endpoint;
    this.#EventSource = EventSourceImpl;
    this.#handlers = handlers;
    this.#backlog = options.backlog;
    this.#presence = options.presence;
    this.#clientId = options.clientId;
    this.#tickets = tickets;
    this.#walls = walls;
    this.#position = new Map(
      walls.flatMap((wall) => (options.position?.[wall] ? [[wall, options.position[wall]]] : [])),
    );
    this.#open();
  }

  /** The walls this subscription follows, in the stream's order. */
  get walls() {
    return [...this.#walls];
  }

  /** The walls of the stream that is open now: all of `walls` once an `update` has gone live. */
  get liveWalls() {
    return [...this.#liveWalls];
  }

  /** The cursor reached in each wall: give it to `subscribe` later to resume exactly. */
  get position() {
    return positionOf(this.#position);
  }

  get state() {
    return this.#state;
  }

  /** Why the stream stopped for good (as told to `onError`); undefined while it runs or after `close()`. */
  get error() {
    return this.#failure;
  }

  /**
   * Follows another set of walls on a new stream that resumes the walls it
   * kept from where they were, and new ones from `position` (or their
   * newest messages). Nothing is missed or sent twice in between; the
   * state stays `live` while the new stream opens, since every wall it kept
   * resumes where it was.
   * @param {string | readonly string[]} walls
   * @param {Record<string, string>} [position] cursors for walls new to the subscription
   */
  update(walls, position = {}) {
    const next = listOf(walls);
    const fresh = next.filter((wall) => !this.#walls.includes(wall));
    if (this.#closed || (next.length === this.#walls.length && fresh.length === 0)) return;
    for (const wall of this.#position.keys()) if (!next.includes(wall)) this.#position.delete(wall);
    for (const wall of fresh) if (position[wall]) this.#position.set(wall, position[wall]);
    this.#walls = next;
    this.#liveWalls = this.#liveWalls.filter((wall) => next.includes(wall));
    clearTimeout(this.#restartTimer);
    this.#source?.close();
    this.#open();
  }

  /** Ends the stream for good. */
  close() {
    this.#closed = true;
    clearTimeout(this.#restartTimer);
    this.#source?.close();
    this.#source = undefined;
    this.#liveWalls = [];
  }

  /**
   * Opens the next connection: at once without a token, else once its
   * ticket has come (`refused`: the token of a connection refused before
   * it opened, to be replaced first).
   * @param {string} [refused]
   */
  #open(refused) {
    const open = ++this.#opens;
    const tickets = this.#tickets;
    if (tickets === undefined) {
      this.#connect(undefined);
      return;
    }
    tickets.issue(this.#walls, refused).then(
      (grant) => {
        if (open === this.#opens && !this.#closed) this.#connect(grant);
      },
      (/** @type {unknown} */ error) => {
        if (open !== this.#opens || this.#closed) return;
        if (!(error instanceof WallcastError)) throw error;
        // Not now (no answer, 429, 5xx): again later, as after a drop. Anything else is the answer.
        if (!transient(error)) return this.#fail(error);
        // An `update` kept it live while the new connection opened; it has none now.
        this.#liveWalls = [];
        if (this.#state === 'live') this.#setState('reconnecting');
        this.#restart();
      },
    );
  }

  /**
   * The stream's URL, from the position: what a reconnect resumes from.
   * @param {boolean} [bare] without presence and client id: a probe, which is no one
   */
  #url(bare = false) {
    const query = new URLSearchParams({ walls: this.#walls.join(',') });
    const resumeFrom = this.#walls.flatMap((wall) => {
      const cursor = this.#position.get(wall);
      return cursor === undefined ? [] : [`${wall}:${cursor}`];
    });
    // The query, not a header: EventSource cannot set one. Its own reconnects send Last-Event-ID, which wins.
    if (resumeFrom.length > 0) query.set('lastEventId', resumeFrom.join(','));
    if (this.#backlog !== undefined) query.set('backlog', String(this.#backlog));
    if (this.#presence !== undefined && !bare) query.set('presence', this.#presence);
    if (this.#clientId !== undefined && !bare) query.set('client', this.#clientId);
    return `${this.#endpoint}?${query}`;
  }

  /** @param {Grant | undefined} grant */
  #connect(grant) {
    const url = this.#url();
    const source = new this.#EventSource(
      grant === undefined ? url : `${url}&ticket=${encodeURIComponent(grant.ticket)}`,
    );
    const walls = [...this.#walls];
    /** What happened on this connection, for how it ends. */
    const connection = { opened: false, reauth: false };
    this.#source = source;
    /** @type {Record<string, (event: MessageEvent) => void>} */
    const listeners = {
      open: () => {
        connection.opened = true;
        this.#restartMs = FIRST_RESTART_MS;
        this.#refusals = 0;
        const wider = walls.some((wall) => !this.#liveWalls.includes(wall));
        this.#liveWalls = walls;
        // Live already (an update's new stream): its new walls are live now, which the handler hears too.
        this.#setState('live', wider);
      },
      message: (event) => this.#message(event),
      delete: (event) => this.#delete(event),
      reset: (event) => this.#reset(event),
      // No id: presence is not stored, and moves no position.
      presence: (event) => this.#handlers.onPresence?.(/** @type {Presence} */ (JSON.parse(event.data))),
      // No id either. The token expires soon and the stream ends then (issue 16): a fresh token is
      // fetched now, and the next connection, opened when this one ends, resumes from the position.
      reauth: () => {
        connection.reauth = true;
        if (grant !== undefined) this.#tickets?.expiring(grant.token);
      },
      error: () => (grant === undefined ? this.#dropped(source) : this.#ended(source, grant, connection)),
    };
    for (const [type, listener] of Object.entries(listeners)) {
      // A stream replaced by `update` may still deliver what it had read: only the current one counts.
      source.addEventListener(type, (event) => {
        if (this.#source === source) listener(event);
      });
    }
  }

  /** @param {MessageEvent} event */
  #message(event) {
    this.#advance(event.lastEventId);
    const message = /** @type {Message} */ (JSON.parse(event.data));
    if (this.#seen.has(message.id)) return;
    this.#seen.add(message.id);
    if (this.#seen.size > SEEN_IDS_KEPT) {
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    this.#handlers.onMessage?.(message, this.position);
  }

  /** @param {MessageEvent} event */
  #delete(event) {
    const wall = this.#advance(event.lastEventId) ?? (this.#walls.length === 1 ? this.#walls[0] : undefined);
    const { id } = /** @type {{id: string}} */ (JSON.parse(event.data));
    this.#handlers.onDelete?.({ id, wall }, this.position);
  }

  /** @param {MessageEvent} event */
  #reset(event) {
    this.#advance(event.lastEventId);
    const { reason, wall } = /** @type {{reason: string, wall?: string}} */ (JSON.parse(event.data));
    this.#handlers.onReset?.({ reason, wall }, this.position);
  }

  /**
   * A connection without a ticket dropped or was refused.
   * @param {EventSourceLike} source
   */
  #dropped(source) {
    this.#liveWalls = [];
    this.#setState('reconnecting');
    // The browser reconnects by itself, after the server's `retry:`, with Last-Event-ID.
    if (source.readyState !== 2) return;
    // Closed: the browser will not retry (an error status, a 503 say). Start over, from the position.
    source.close();
    this.#restart();
  }

  /**
   * A ticketed connection ended, or was refused. The EventSource would
   * reconnect with the ticket it used, which is refused: it is closed, and
   * the client opens the next connection itself, with a fresh ticket.
   * @param {EventSourceLike} source
   * @param {Grant} grant
   * @param {{opened: boolean, reauth: boolean}} connection
   */
  #ended(source, grant, connection) {
    source.close();
    this.#liveWalls = [];
    // A first connection refused is still connecting.
    if (this.#state !== 'connecting') this.#setState('reconnecting');
    if (connection.opened) {
      // Ended at the token's expiry, as announced: back at once (the server's `retry:` for it is 500 ms).
      // Dropped otherwise: after about the delay the browser would have waited.
      if (connection.reauth) this.#open();
      else this.#restart();
      return;
    }
    // Refused before it opened. Once: a fresh token and ticket, at once. Again: ask why, since an
    // EventSource is not told; only "not now" (503 draining, 429, no answer) is tried again, later.
    if (++this.#refusals === 1) {
      this.#open(grant.token);
      return;
    }
    const tickets = /** @type {StreamTickets} */ (this.#tickets);
    const open = ++this.#opens;
    tickets.probe(this.#url(true), this.#walls).then(
      (refusal) => {
        if (open !== this.#opens || this.#closed) return;
        if (refusal === undefined || transient(refusal)) this.#restart();
        else this.#fail(refusal);
      },
      (/** @type {unknown} */ error) => {
        if (open !== this.#opens || this.#closed) return;
        if (error instanceof WallcastError && !transient(error)) this.#fail(error);
        else this.#restart();
      },
    );
  }

  /** Opens again after a delay that doubles (up to MAX_RESTART_MS) until a connection opens. */
  #restart() {
    const delayMs = this.#restartMs * (0.75 + Math.random() / 2);
    this.#restartMs = Math.min(this.#restartMs * 2, MAX_RESTART_MS);
    clearTimeout(this.#restartTimer);
    this.#restartTimer = setTimeout(() => {
      if (!this.#closed) this.#open();
    }, delayMs);
  }

  /**
   * Stops for good: the stream cannot be authorised, and asking again would only be refused again.
   * @param {WallcastError} error
   */
  #fail(error) {
    this.close();
    this.#failure = error;
    // Never `live` once stopped (an `update` keeps it so while its new connection opens).
    if (this.#state === 'live') this.#setState('reconnecting');
    this.#handlers.onError?.(error);
  }

  /**
   * Takes the position an event's id names; the wall whose cursor it moved.
   * @param {string} lastEventId
   * @returns {string | undefined}
   */
  #advance(lastEventId) {
    let moved;
    for (const pair of lastEventId.split(',')) {
      const colon = pair.indexOf(':');
      if (colon <= 0) continue;
      const wall = pair.slice(0, colon);
      const cursor = pair.slice(colon + 1);
      if (!this.#walls.includes(wall) || this.#position.get(wall) === cursor) continue;
      this.#position.set(wall, cursor);
      moved = wall;
    }
    return moved;
  }

  /**
   * @param {StreamState} state
   * @param {boolean} [anyway] tell the handler even when the state is the same
   */
  #setState(state, anyway = false) {
    if (this.#state === state && !anyway) return;
    this.#state = state;
    this.#handlers.onState?.(state);
  }
}

/**
 * The client's token: the one given, or `getToken`'s. A token known to be
 * expiring or refused is replaced on its next use; callers that find it so
 * at the same time share one `getToken` call.
 */
class TokenSource {
  /** @type {string | undefined} */
  #token;
  /** The token not to hand out again (expiring, or refused as expired), when `getToken` can replace it. */
  /** @type {string | undefined} */
  #stale;
  /** @type {(() => Promise<string>) | undefined} */
  #getToken;
  #timeoutMs;
  /** @type {Promise<string> | undefined} */
  #pending;

  /**
   * @param {string | undefined} token
   * @param {(() => Promise<string>) | undefined} getToken
   * @param {number} timeoutMs how long one `getToken` call may take
   */
  constructor(token, getToken, timeoutMs) {
    this.#token = token;
    this.#getToken = getToken;
    this.#timeoutMs = timeoutMs;
  }

  /** Whether a refused token can be replaced: only `getToken` gives another. */
  get refreshable() {
    return this.#getToken !== undefined;
  }

  /**
   * The token to send now.
   * @returns {Promise<string>}
   * @throws {WallcastError} `get_token_failed`
   */
  current() {
    const token = this.#token;
    if (token !== undefined && (token !== this.#stale || this.#getToken === undefined)) return Promise.resolve(token);
    this.#pending ??= this.#fetchToken();
    return this.#pending;
  }

  /**
   * `token` expires soon, or was refused as expired: the next `current()` gets
   * another. A token already replaced is left alone (its callers were late).
   * @param {string} token
   */
  expire(token) {
    if (token === this.#token) this.#stale = token;
  }

  /** @returns {Promise<string>} */
  async #fetchToken() {
    const getToken = /** @type {() => Promise<string>} */ (this.#getToken);
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let timer;
    try {
      const late = new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`it did not answer within ${Math.round(this.#timeoutMs / 1000)} s`)),
          this.#timeoutMs,
        );
      });
      const token = await Promise.race([getToken(), late]);
      if (typeof token !== 'string' || token === '') throw new Error('it gave no token');
      this.#token = token;
      // What getToken gives is the fresh token, even the same string again (a cached one): asking again
      // at once would get it again. A refusal of it is the answer then.
      this.#stale = undefined;
      return token;
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new WallcastError(`Could not get a token (getToken): ${why}.`, { code: 'get_token_failed', cause: error });
    } finally {
      clearTimeout(timer);
      this.#pending = undefined;
    }
  }
}

/** A new Idempotency-Key (a UUID); `crypto.randomUUID` exists only on https and localhost pages. */
export function newIdempotencyKey() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Code points, as the server counts a body's length (after trimming), not
 * UTF-16 units as `maxlength` and `String.length` do: an emoji is one.
 * @param {string} text
 */
export function countCodePoints(text) {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/**
 * Why there was no answer at all, as far as a client can know. A page on
 * another site cannot tell a refused CORS request from a server that is
 * down (the browser hides which), so it hears both.
 * @param {URL} url
 */
function unreachable(url) {
  const page = globalThis.location?.origin;
  const elsewhere = page !== undefined && page !== url.origin;
  return elsewhere
    ? `Cannot reach the server at ${url.host}: it may be down or restarting, or not accept requests from this site (WALLCAST_CORS_ORIGINS).`
    : `Cannot reach the server at ${url.host}: it may be down or restarting.`;
}

/**
 * @param {string} wall
 * @param {string} id
 */
function messagePath(wall, id) {
  return `/api/walls/${encodeURIComponent(wall)}/messages/${encodeURIComponent(id)}`;
}

/**
 * "Not now" rather than "no": no answer, too many requests, the server restarting or overloaded.
 * @param {WallcastError} error
 */
function transient(error) {
  return error.code === 'network' || error.code === 'timeout' || error.status === 429 || error.status >= 500;
}

/** @param {string | undefined} baseUrl */
function baseUrlOf(baseUrl) {
  if (baseUrl !== undefined && baseUrl !== '') return baseUrl.replace(/\/+$/, '');
  const origin = globalThis.location?.origin;
  if (origin === undefined) throw new TypeError('Give the client a baseUrl, e.g. http://127.0.0.1:8080.');
  return origin;
}

/**
 * @param {string | readonly string[]} walls
 * @returns {string[]}
 */
function listOf(walls) {
  const list = [...new Set(typeof walls === 'string' ? [walls] : walls)];
  if (list.length === 0) throw new TypeError('Follow at least one wall.');
  return list;
}

/**
 * @param {Map<string, string>} position
 * @returns {Position}
 */
function positionOf(position) {
  return Object.freeze(Object.fromEntries(position));
}

/**
 * The contract's error body, in words; a proxy's page or a bare status otherwise.
 * @param {Response} response
 * @param {string} [idempotencyKey]
 * @returns {Promise<WallcastError>}
 */
async function errorOf(response, idempotencyKey) {
  let code = `http_${response.status}`;
  let message = `The server answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}.`;
  try {
    const body = await response.json();
    if (typeof body?.error?.message === 'string') message = body.error.message;
    if (typeof body?.error?.code === 'string') code = body.error.code;
  } catch {
    // Not the contract's JSON (a proxy's error page): the status says it.
  }
  return new WallcastError(message, {
    code,
    status: response.status,
    retryAfterSeconds: retryAfterOf(response.headers.get('Retry-After')),
    idempotencyKey,
  });
}

/**
 * `Retry-After` in seconds: a number of seconds or an HTTP date.
 * @param {string | null} header
 */
function retryAfterOf(header) {
  if (header === null || header === '') return undefined;
  const seconds = /^\d+$/.test(header) ? Number(header) : (Date.parse(header) - Date.now()) / 1000;
  return Number.isFinite(seconds) ? Math.max(0, Math.ceil(seconds)) : undefined;
}

/**
 * @param {WallcastError} error
 * @param {string} idempotencyKey
 */
function withKey(error, idempotencyKey) {
  error.idempotencyKey = idempotencyKey;
  return error;
}

function aborted() {
  return new WallcastError('The request was cancelled.', { code: 'aborted' });
}

/**
 * @param {number} ms
 * @param {AbortSignal} [signal]
 * @returns {Promise<void>}
 */
function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(aborted());
    };
    signal?.addEventListener('abort', stop, { once: true });
  });
}
