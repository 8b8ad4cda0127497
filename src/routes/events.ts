import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../app-deps.js';
import { AuthFailure } from '../auth/auth-failure.js';
import { ApiError, unavailable } from '../errors.js';
import { parseCount } from '../http/request.js';
import { authorize } from '../http/request-identity.js';
import { SSE_HEADERS, writeStreamHead } from '../http/stream-head.js';
import { CLIENT_ID_RULE, isClientId, personOf } from '../presence/person.js';
import { htmlFormat } from '../stream/html-format.js';
import { multiWallFormat } from '../stream/multi-wall-format.js';
import { plainFormat } from '../stream/plain-format.js';
import type { PresenceAsk } from '../stream/presence-fanout.js';
import { Stream } from '../stream/stream.js';
import type { StreamDataFormat, StreamFormat } from '../stream/stream-format.js';
import { StreamOutput } from '../stream/stream-output.js';
import { DEFAULT_WALL, parseWall } from '../wall.js';

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
 * or, with `walls=a,b,c`, for several walls on one connection. The route
 * parses and checks; the stream (stream/stream.ts) does the rest.
 */
export function eventRoutes(deps: AppDeps): Hono<AppEnv> {
  const { config, metrics } = deps;
  return new Hono<AppEnv>().get('/events', async (c) => {
    const query = queryOf(c.env.incoming.url);
    const several = query.walls !== undefined;
    const walls = several
      ? parseWalls(query.walls ?? '', c.req.param('wall'))
      : [parseWall(c.req.param('wall') ?? DEFAULT_WALL)];
    const data = parseDataFormat(query.format);
    const backlog = parseCount(query.backlog, 'backlog', config.backlog, 0, config.historySize);
    const presence = parsePresence(query.presence);
    const client = parseClient(query.client);
    // Read from the Node request: no Headers object is built and kept for the
    // life of the stream (node-server keeps the request until it closes).
    const header = c.env.incoming.headers['last-event-id'];
    const fromQuery = typeof query.lastEventId === 'string' && query.lastEventId !== '' ? query.lastEventId : undefined;
    const lastEventId = (typeof header === 'string' && header) || fromQuery;
    if (deps.lifecycle.draining) throw unavailable('The server is restarting; reconnect in a moment.', 'draining');

    // A private wall needs a read grant; a ticket (?ticket=) is taken here and nowhere else.
    // HEAD opens no stream: it takes no ticket (a ticket is single-use), only a token.
    const head = c.req.method === 'HEAD';
    const identity = await authorize(c.env.incoming, deps, 'read', walls, head ? undefined : query);
    if (presence === 'members' && !deps.auth.keyConfigured) {
      throw new ApiError(
        'invalid_presence',
        'This server verifies no tokens, so it has no members to list: use presence=count.',
      );
    }
    if (presence === 'members' && identity === undefined) {
      throw new AuthFailure('token_missing', 'Members are listed only to a token (or ticket) that can read the wall.');
    }
    if (head) return c.body(null, 200, SSE_HEADERS);
    const slots = deps.streams.slots;
    if (!(await slots.take())) {
      throw unavailable('This server has as many streams open as it takes; try again shortly.', 'subscriber_cap', 5);
    }
    const format: StreamFormat = several ? multiWallFormat(data) : data === 'html' ? htmlFormat : plainFormat;
    // Headers that middleware set on the way (with c.header) go out in the stream's own head.
    const res = c.env.outgoing;
    const socket = writeStreamHead(res, connectRetryMs(), c.body(null).headers);
    if (socket === undefined) {
      slots.give();
      throw unavailable('The connection is busy; reconnect.', 'connection_busy');
    }
    // HTTP/1.1: the connection answers nothing else from now on, so its parser goes back to Node.
    const connection = c.env.outgoing.socket;
    if (c.env.incoming.httpVersionMajor === 1 && connection !== null) {
      deps.parserRelease.releaseSoon(connection, c.env.incoming);
    }
    metrics.streamsOpened.inc();
    const output = new StreamOutput(res, socket, config.slowClientBytes);
    const request = {
      walls,
      several,
      format,
      lastEventId,
      backlog,
      person: personOf(identity, client),
      presence,
      expiresAtMs: identity?.expiresAtMs,
    };
    await Stream.open(deps.streams, request, output).run(backlog);
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

/** `presence=count|members`: presence events for each wall (issue 17). */
function parsePresence(raw: string | string[] | undefined): PresenceAsk | undefined {
  if (raw === undefined) return undefined;
  if (raw === 'count' || raw === 'members') return raw;
  throw new ApiError('invalid_presence', '"presence" is count (how many are here) or members (and who, with a token).');
}

/** `client={id}`: the browser a stream belongs to, which presence counts once. */
function parseClient(raw: string | string[] | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !isClientId(raw)) throw new ApiError('invalid_client', CLIENT_ID_RULE);
  return raw;
}

function parseDataFormat(raw: string | string[] | undefined): StreamDataFormat {
  if (raw === undefined || raw === 'json') return 'json';
  if (raw === 'html') return 'html';
  throw new ApiError('bad_request', '"format" is json (the message JSON, the default) or html (its HTML fragment).');
}
