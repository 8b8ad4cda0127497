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
 * @property {string} [token] the publish token, sent as `Authorization: Bearer …` with posts
 * @property {typeof fetch} [fetch] default: `globalThis.fetch`
 * @property {EventSourceConstructor} [EventSource] default: `globalThis.EventSource` (in Node, pass the `eventsource` package's)
 * @property {number} [timeoutMs] how long a post (all its retries) or a read may take; default 10 000
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
 * A failure a person can act on: `message` says what happened in words,
 * `code` is the server's (`rate_limited`, `unavailable`, …) or the client's
 * own: `network` (no answer at all), `timeout`, `aborted`.
 */
export class WallcastError extends Error {
  /**
   * @param {string} message
   * @param {{code: string, status?: number, retryAfterSeconds?: number, idempotencyKey?: string}} details
   */
  constructor(message, details) {
    super(message);
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
  #token;
  #fetch;
  #EventSource;
  #timeoutMs;

  /** @param {ClientOptions} [options] */
  constructor(options = {}) {
    this.#base = baseUrlOf(options.baseUrl);
    this.#token = options.token;
    const fetchImpl = options.fetch ?? globalThis.fetch;
    // Called unbound, `window.fetch` throws "Illegal invocation".
    this.#fetch = /** @type {typeof fetch} */ ((input, init) => fetchImpl(input, init));
    this.#EventSource =
      options.EventSource ?? /** @type {EventSourceConstructor | undefined} */ (globalThis.EventSource);
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /**
   * Follows `walls` (one name or up to 32) on one stream until `close()`.
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
    return new Subscription(this.#url('/api/events'), EventSourceImpl, listOf(walls), handlers, options);
  }

  /**
   * Posts a message. Retries what may be retried (no answer, 502/503/504)
   * with the same Idempotency-Key until `timeoutMs`, so it is stored once.
   * @param {string} wall
   * @param {{body: string, author?: string}} draft
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
    if (this.#token !== undefined) headers.Authorization = `Bearer ${this.#token}`;
    const body = JSON.stringify(draft.author === undefined ? { body: draft.body } : draft);
    const url = this.#url(`/api/walls/${encodeURIComponent(wall)}/messages`);
    /** @type {WallcastError | undefined} */
    let last;
    for (let attempt = 1; ; attempt++) {
      /** @type {WallcastError} */
      let failure;
      try {
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
    const response = await this.#get(`/api/walls/${encodeURIComponent(wall)}/messages${suffix}`, options.signal);
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
    const response = await this.#get(`/api/walls/${encodeURIComponent(wall)}/messages/${encodeURIComponent(id)}`);
    if (response.status === 404) return undefined;
    if (!response.ok) throw await errorOf(response);
    return /** @type {Message} */ (await response.json());
  }

  /**
   * @param {string} path
   * @param {AbortSignal} [signal]
   */
  #get(path, signal) {
    const init = { headers: { Accept: 'application/json' } };
    return this.#request(this.#url(path), init, Date.now() + this.#timeoutMs, this.#timeoutMs, signal);
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
  #closed = false;

  /**
   * @param {string} endpoint `…/api/events`
   * @param {EventSourceConstructor} EventSourceImpl
   * @param {string[]} walls
   * @param {StreamHandlers} handlers
   * @param {SubscribeOptions} options
   */
  constructor(endpoint, EventSourceImpl, walls, handlers, options) {
    this.#endpoint = endpoint;
    this.#EventSource = EventSourceImpl;
    this.#handlers = handlers;
    this.#backlog = options.backlog;
    this.#presence = options.presence;
    this.#clientId = options.clientId;
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
    if (next.length === this.#walls.length && fresh.length === 0) return;
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

  #open() {
    const query = new URLSearchParams({ walls: this.#walls.join(',') });
    const resumeFrom = this.#walls.flatMap((wall) => {
      const cursor = this.#position.get(wall);
      return cursor === undefined ? [] : [`${wall}:${cursor}`];
    });
    // The query, not a header: EventSource cannot set one. Its own reconnects send Last-Event-ID, which wins.
    if (resumeFrom.length > 0) query.set('lastEventId', resumeFrom.join(','));
    if (this.#backlog !== undefined) query.set('backlog', String(this.#backlog));
    if (this.#presence !== undefined) query.set('presence', this.#presence);
    if (this.#clientId !== undefined) query.set('client', this.#clientId);
    const source = new this.#EventSource(`${this.#endpoint}?${query}`);
    const walls = [...this.#walls];
    this.#source = source;
    /** @type {Record<string, (event: MessageEvent) => void>} */
    const listeners = {
      open: () => {
        this.#restartMs = FIRST_RESTART_MS;
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
      error: () => this.#error(source),
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

  /** @param {EventSourceLike} source */
  #error(source) {
    this.#liveWalls = [];
    if (source.readyState !== 2) {
      // The browser reconnects by itself, after the server's `retry:`, with Last-Event-ID.
      this.#setState('reconnecting');
      return;
    }
    // Closed: the browser will not retry (an error status, a 503 say). Start over, from the position.
    source.close();
    this.#setState('reconnecting');
    const delayMs = this.#restartMs * (0.75 + Math.random() / 2);
    this.#restartMs = Math.min(this.#restartMs * 2, MAX_RESTART_MS);
    this.#restartTimer = setTimeout(() => {
      if (!this.#closed && this.#source === source) this.#open();
    }, delayMs);
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
