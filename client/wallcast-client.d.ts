/** A new Idempotency-Key (a UUID); `crypto.randomUUID` exists only on https and localhost pages. */
export function newIdempotencyKey(): string;
/**
 * Code points, as the server counts a body's length (after trimming), not
 * UTF-16 units as `maxlength` and `String.length` do: an emoji is one.
 * @param {string} text
 */
export function countCodePoints(text: string): number;
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
    constructor(message: string, details: {
        code: string;
        status?: number;
        retryAfterSeconds?: number;
        idempotencyKey?: string;
        cause?: unknown;
    });
    /** @type {string} */
    code: string;
    /** The HTTP status; 0 when there was no answer. @type {number} */
    status: number;
    /** The server's `Retry-After`, in seconds. @type {number | undefined} */
    retryAfterSeconds: number | undefined;
    /** The key the post was sent with: post again with it to have the message stored once. @type {string | undefined} */
    idempotencyKey: string | undefined;
}
export class WallcastClient {
    /** @param {ClientOptions} [options] */
    constructor(options?: ClientOptions);
    /**
     * Follows `walls` (one name or up to 32) on one stream until `close()`.
     * With a token, each connection of the stream opens with a fresh ticket.
     * @param {string | readonly string[]} walls
     * @param {StreamHandlers} handlers
     * @param {SubscribeOptions} [options]
     * @returns {Subscription}
     */
    subscribe(walls: string | readonly string[], handlers: StreamHandlers, options?: SubscribeOptions): Subscription;
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
    post(wall: string, draft: {
        body: string;
        author?: string;
    }, options?: PostOptions): Promise<Posted>;
    /**
     * A page of a wall's history: the newest `limit`, or the first `limit` after `after`.
     * @param {string} wall
     * @param {{after?: string, limit?: number, signal?: AbortSignal}} [options]
     * @returns {Promise<HistoryPage>}
     */
    history(wall: string, options?: {
        after?: string;
        limit?: number;
        signal?: AbortSignal;
    }): Promise<HistoryPage>;
    /**
     * One message, or undefined when there is none with this id (never posted, or deleted).
     * @param {string} wall
     * @param {string} id
     * @returns {Promise<Message | undefined>}
     */
    message(wall: string, id: string): Promise<Message | undefined>;
    /**
     * Deletes a message: needs a token with `moderate` on its wall, or the admin token.
     * @param {string} wall
     * @param {string} id
     * @returns {Promise<void>}
     * @throws {WallcastError} `not_found` when there is no such message (or deleting is not enabled), `insufficient_scope`, …
     */
    delete(wall: string, id: string): Promise<void>;
    #private;
}
/**
 * One stream of one or several walls. Its position moves with every event
 * (the event's id), so reopening it (`update`, or after the browser gave up
 * on the connection) resumes every wall exactly.
 */
export class Subscription {
    /**
     * @param {string} endpoint `…/api/events`
     * @param {EventSourceConstructor} EventSourceImpl
     * @param {string[]} walls
     * @param {StreamHandlers} handlers
     * @param {SubscribeOptions} options
     * @param {StreamTickets} [tickets] with a token: each connection opens with a fresh ticket
     */
    constructor(endpoint: string, EventSourceImpl: EventSourceConstructor, walls: string[], handlers: StreamHandlers, options: SubscribeOptions, tickets?: StreamTickets);
    /** The walls this subscription follows, in the stream's order. */
    get walls(): string[];
    /** The walls of the stream that is open now: all of `walls` once an `update` has gone live. */
    get liveWalls(): string[];
    /** The cursor reached in each wall: give it to `subscribe` later to resume exactly. */
    get position(): Readonly<Record<string, string>>;
    get state(): StreamState;
    /** Why the stream stopped for good (as told to `onError`); undefined while it runs or after `close()`. */
    get error(): WallcastError | undefined;
    /**
     * Follows another set of walls on a new stream that resumes the walls it
     * kept from where they were, and new ones from `position` (or their
     * newest messages). Nothing is missed or sent twice in between; the
     * state stays `live` while the new stream opens, since every wall it kept
     * resumes where it was.
     * @param {string | readonly string[]} walls
     * @param {Record<string, string>} [position] cursors for walls new to the subscription
     */
    update(walls: string | readonly string[], position?: Record<string, string>): void;
    /** Ends the stream for good. */
    close(): void;
    #private;
}
/**
 * A posted message, as the server sends it.
 */
export type Message = {
    /**
     * a nanoid, unique for ever
     */
    id: string;
    wall: string;
    /**
     * its position in its wall
     */
    cursor: string;
    /**
     * `""` when anonymous
     */
    author: string;
    /**
     * the verified author's id (a token's `sub`); null for an anonymous post
     */
    authorId: string | null;
    body: string;
    /**
     * the server's escaped fragment, `<div class="message" id="m{id}">`
     */
    html: string;
    /**
     * ISO 8601, UTC
     */
    createdAt: string;
};
/**
 * Where a stream stands: the cursor reached in each wall.
 */
export type Position = Readonly<Record<string, string>>;
/**
 * `connecting`: the first connection is being made; `live`: events arrive as
 * they are posted; `reconnecting`: the connection dropped and is being made
 * again (what was missed follows).
 */
export type StreamState = "connecting" | "live" | "reconnecting";
/**
 * Who is on a wall (`event: presence`, asked with `presence`): people, not connections.
 */
export type Presence = {
    wall: string;
    online: number;
    /**
     * with `presence: 'members'` (a token that can read the wall)
     */
    members?: {
        id: string;
        name: string;
    }[] | undefined;
    /**
     * members not listed
     */
    more?: number | undefined;
};
/**
 * What a subscription calls. Each message reaches `onMessage` once per
 * subscription, even when a reset or a resume sends it again.
 */
export type StreamHandlers = {
    onMessage?: ((message: Message, position: Position) => void) | undefined;
    /**
     * a moderator deleted message `id`
     */
    onDelete?: ((deleted: {
        id: string;
        wall: string | undefined;
    }, position: Position) => void) | undefined;
    /**
     * the wall's position could not be resumed (`trimmed`, `unknown`, `epoch`, `malformed`): its newest messages follow
     */
    onReset?: ((reset: {
        reason: string;
        wall: string | undefined;
    }, position: Position) => void) | undefined;
    onState?: ((state: StreamState) => void) | undefined;
    /**
     * who is on a wall, when `presence` was asked (it moves no position)
     */
    onPresence?: ((presence: Presence) => void) | undefined;
    /**
     * the stream stopped for good because it could not be authorised (`getToken` failed, the token or ticket was refused again after a fresh one, `insufficient_scope`): called once, and nothing more is tried; subscribe again, from `position`, when a token can be had
     */
    onError?: ((error: WallcastError) => void) | undefined;
};
export type SubscribeOptions = {
    /**
     * the cursor to resume each wall from (a message's `cursor`, a page's `data-cursor`); a wall without one starts with its newest `backlog` messages
     */
    position?: Record<string, string> | undefined;
    /**
     * messages a wall without a position starts with (server default 50; 0: live only)
     */
    backlog?: number | undefined;
    /**
     * ask for `event: presence` on every wall of the stream
     */
    presence?: "count" | "members" | undefined;
    /**
     * this browser's id (8–64 of `A-Za-z0-9_-`): its streams count as one person
     */
    clientId?: string | undefined;
};
/**
 * The smallest EventSource this client needs: the browser's, or the
 * `eventsource` npm package's in Node.
 */
export type EventSourceLike = {
    /**
     * 0 connecting, 1 open, 2 closed
     */
    readyState: number;
    close: () => void;
    addEventListener: (type: string, listener: (event: MessageEvent) => void) => void;
};
export type EventSourceConstructor = new (url: string) => EventSourceLike;
export type ClientOptions = {
    /**
     * the server, e.g. `https://wall.example`; default: the page's own origin
     */
    baseUrl?: string | undefined;
    /**
     * a signed token (JWT) sent as `Authorization: Bearer …` with every request, and exchanged for tickets to open streams; or the publish or admin token (not a JWT: sent as is, no ticket)
     */
    token?: string | undefined;
    /**
     * gets a fresh JWT: called when a token is first needed (unless `token` is given), when a stream is told to re-authenticate (`event: reauth`), and after a `401 token_expired` or a refused ticket; never more than one call at a time, each within `timeoutMs`
     */
    getToken?: (() => Promise<string>) | undefined;
    /**
     * default: `globalThis.fetch`
     */
    fetch?: typeof fetch | undefined;
    /**
     * default: `globalThis.EventSource` (in Node, pass the `eventsource` package's)
     */
    EventSource?: EventSourceConstructor | undefined;
    /**
     * how long a post (all its retries), a read or a `getToken` call may take; default 10 000
     */
    timeoutMs?: number | undefined;
};
export type PostOptions = {
    /**
     * default: a new random key. Pass the same key to post the same message again (after a failure) and have it stored once.
     */
    idempotencyKey?: string | undefined;
    /**
     * the client's `timeoutMs` unless given
     */
    timeoutMs?: number | undefined;
    signal?: AbortSignal | undefined;
    /**
     * called before each retry, e.g. to say "retrying…"
     */
    onRetry?: ((retry: {
        attempt: number;
        delayMs: number;
        error: WallcastError;
    }) => void) | undefined;
};
export type Posted = {
    /**
     * the stored message (the first one, when the key was seen before)
     */
    message: Message;
    /**
     * the server had stored this post already (`Idempotent-Replayed`)
     */
    replayed: boolean;
};
export type HistoryPage = {
    /**
     * oldest first
     */
    messages: Message[];
    /**
     * where to continue from
     */
    cursor: string;
    /**
     * `after` could not be resumed: these are the newest
     */
    reset: boolean;
};
/**
 * A ticket for one stream, and the token it was issued for.
 */
export type Grant = {
    /**
     * single use, within a minute
     */
    ticket: string;
    token: string;
};
/**
 * How a subscription opened with a token gets its tickets: the client
 * makes one for each subscription; not for use on its own.
 */
export type StreamTickets = {
    /**
     * a ticket for `walls`; `refused`: the token of a refused stream, to be replaced by a fresh one first. Undefined when the server takes no tickets (no token key set there: it reads no token at all), so the stream opens without.
     */
    issue: (walls: readonly string[], refused?: string) => Promise<Grant | undefined>;
    /**
     * the stream of `token` was told it expires: get a fresh one now, for the reconnect
     */
    expiring: (token: string) => void;
    /**
     * why a stream of `url` is refused, asked with a fresh ticket; undefined when it is not (any more)
     */
    probe: (url: string, walls: readonly string[]) => Promise<WallcastError | undefined>;
};
