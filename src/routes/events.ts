import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../app-deps.js';
import { ApiError, unavailable } from '../errors.js';
import { PAGE_BYTES, parseCount } from '../http/request.js';
import { releaseParserSoon } from '../http/stream-connection.js';
import { HtmlFormat, MultiWallFormat, SSE_HEADERS, type StreamDataFormat, type StreamFormat } from '../sse.js';
import { type ReadResult, resumeCursor } from '../store/store.js';
import type { Subscriber } from '../subscriber.js';
import { DEFAULT_WALL, parseWall } from '../wall.js';
import { WallCursors } from '../wall-cursors.js';

/** Events read per store call while replaying after a Last-Event-ID. */
const REPLAY_PAGE_SIZE = 500;

/**
 * Walls one stream may follow: its id holds a cursor for each, and comes
 * back as the Last-Event-ID header (32 walls: about 4 KB at most).
 */
const MAX_STREAM_WALLS = 32;

/** `retry:` sent first, jittered per connection so a restart does not bring every client back at once. */
function connectRetryMs(): number {
  return 1000 + Math.floor(Math.random() * 2000);
}

type Query = Record<string, string | string[] | undefined>;

/**
 * The event streams: `/api/walls/:wall/events`; `/api/events` for `main`,
 * or, with `walls=a,b,c`, for several walls on one connection.
 */
export function eventRoutes(deps: AppDeps): Hono<AppEnv> {
  const { config, store, hub, metrics, log } = deps;
  const streamRequest = (query: Query, wall: string | undefined) => {
    return {
      walls: query.walls === undefined ? [parseWall(wall ?? DEFAULT_WALL)] : parseWalls(query.walls, wall),
      several: query.walls !== undefined,
      data: parseDataFormat(query.format),
      backlog: parseCount(query.backlog, 'backlog', config.backlog, 0, config.historySize),
      lastEventId: typeof query.lastEventId === 'string' && query.lastEventId !== '' ? query.lastEventId : undefined,
    };
  };

  /**
   * The replay of one wall of a stream: the newest `backlog` messages, or
   * everything after `after` page by page (each written once the client
   * took the one before, down to the bound), or a reset and the newest.
   */
  const replay = async (subscriber: Subscriber, after: string | undefined, backlog: number) => {
    const wall = subscriber.wall;
    if (after === undefined) {
      hub.replay(subscriber, await store.read(wall, { limit: backlog, maxBytes: PAGE_BYTES }), true);
      return;
    }
    metrics.replays.inc();
    const limit = Math.max(REPLAY_PAGE_SIZE, backlog);
    let page = await store.read(wall, { after, limit, maxBytes: PAGE_BYTES });
    if (page.reset !== undefined) {
      metrics.resets.inc();
      hub.replay(subscriber, newest(page, backlog), true);
      return;
    }
    hub.replay(subscriber, page, false);
    while (resumeCursor(page) !== page.head && subscriber.cursor !== undefined && !subscriber.closed) {
      await hub.drained(subscriber);
      page = await store.read(wall, { after: subscriber.cursor, limit, maxBytes: PAGE_BYTES });
      hub.replay(subscriber, page, false);
    }
  };

  /**
   * One stream, as one sequence: subscribe → replay → live, wall by wall.
   *
   * Every wall's subscriber is registered with the hub *before* any replay
   * is read: whatever is posted while a read is in flight is held, and
   * `goLive` writes only what comes after the replay's last cursor. So no
   * event falls between replay and live, and none is sent twice. A wall goes
   * live as soon as its own replay is written; the stream's id always holds
   * each wall's position, so a drop mid-way resumes every wall exactly.
   *
   * Exits: the client goes away (the hub drops it on `close`), the server
   * shuts down (`hub.shutdown`), the client is too slow (the hub evicts it),
   * or the store fails mid-replay (the stream ends and the client replays
   * from its last event on reconnect).
   */
  return new Hono<AppEnv>().get('/events', async (c) => {
    const { walls, several, data, backlog, lastEventId } = streamRequest(
      queryOf(c.env.incoming.url),
      c.req.param('wall'),
    );
    // Read from the Node request: no Headers object is built and kept for the
    // life of the stream (node-server keeps the request until it closes).
    const header = c.env.incoming.headers['last-event-id'];
    const after = (typeof header === 'string' && header) || lastEventId;
    if (deps.lifecycle.draining) throw unavailable('The server is restarting; reconnect in a moment.', 'draining');
    if (config.maxSubscribers !== undefined && hub.size >= config.maxSubscribers) {
      throw unavailable('This server has as many streams open as it takes; try again shortly.', 'subscriber_cap', 5);
    }
    if (c.req.method === 'HEAD') return c.body(null, 200, SSE_HEADERS);
    const cursors = several ? WallCursors.resume(walls, after) : undefined;
    const format: StreamFormat | undefined =
      cursors !== undefined ? new MultiWallFormat(cursors, data) : data === 'html' ? new HtmlFormat() : undefined;
    // Headers that middleware set on the way (with c.header) go out in the stream's own head.
    const subscribers = hub.openStream(walls, c.env.outgoing, connectRetryMs(), c.body(null).headers, format);
    if (subscribers === undefined) throw unavailable('The connection is busy; reconnect.', 'connection_busy');
    // HTTP/1.1: the connection answers nothing else from now on, so its parser goes back to Node.
    const socket = c.env.outgoing.socket;
    if (c.env.incoming.httpVersionMajor === 1 && socket !== null) releaseParserSoon(socket, c.env.incoming);
    metrics.streamsOpened.inc();
    try {
      for (const subscriber of subscribers) {
        await replay(subscriber, cursors === undefined ? after : cursors.resumeFrom(subscriber.wall), backlog);
        await hub.drained(subscriber);
        hub.goLive(subscriber);
      }
      if (subscribers[0] !== undefined) hub.settle(subscribers[0]);
    } catch (error) {
      log.warn({ err: error, walls }, 'stream: replay failed, closing the stream (the client resumes from its cursor)');
      if (subscribers[0] !== undefined) hub.close(subscribers[0]);
    }
    return RESPONSE_ALREADY_SENT;
  });
}

/**
 * The query of the Node request's own URL. Not Hono's validator or
 * `c.req.query()`: those build the request's URL on node-server's Request,
 * which stays referenced for the life of the stream (measured by
 * bench/stream-heap.mjs).
 */
function queryOf(url: string | undefined): Query {
  const at = url?.indexOf('?') ?? -1;
  const query: Query = {};
  if (url === undefined || at === -1) return query;
  for (const [name, value] of new URLSearchParams(url.slice(at + 1))) {
    const seen = query[name];
    query[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return query;
}

/** `walls=a,b,c` of `/api/events`: valid, distinct wall names, at most MAX_STREAM_WALLS. */
function parseWalls(raw: string | string[], pathWall: string | undefined): string[] {
  if (pathWall !== undefined) {
    throw new ApiError('invalid_wall', '"walls" is for /api/events; /api/walls/{wall}/events follows one wall.');
  }
  const names = [...new Set((Array.isArray(raw) ? raw.join(',') : raw).split(','))];
  if (names.length > MAX_STREAM_WALLS) {
    throw new ApiError('invalid_wall', `A stream follows at most ${MAX_STREAM_WALLS} walls.`);
  }
  return names.map(parseWall);
}

function parseDataFormat(raw: string | string[] | undefined): StreamDataFormat {
  if (raw === undefined || raw === 'json') return 'json';
  if (raw === 'html') return 'html';
  throw new ApiError('bad_request', '"format" is json (the message JSON, the default) or html (its HTML fragment).');
}

/**
 * A reset replays the newest `backlog` messages, not the whole page read; the
 * reset's `id:` then names the event just before the first one kept.
 */
function newest(page: ReadResult, backlog: number): ReadResult {
  if (page.events.length <= backlog) return page;
  const cut = page.events.length - backlog;
  const start = page.events[cut - 1]?.cursor ?? page.start;
  return { ...page, events: page.events.slice(cut), start };
}
