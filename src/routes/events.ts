import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono } from 'hono';
import { validator } from 'hono/validator';
import type { AppDeps, AppEnv } from '../app-deps.js';
import { unavailable } from '../errors.js';
import { PAGE_BYTES, parseCount } from '../http/request.js';
import { wallParam } from '../http/validators.js';
import { SSE_HEADERS } from '../sse.js';
import { type ReadResult, resumeCursor } from '../store/store.js';

/** Events read per store call while replaying after a Last-Event-ID. */
const REPLAY_PAGE_SIZE = 500;

/** `retry:` sent first, jittered per connection so a restart does not bring every client back at once. */
export function connectRetryMs(): number {
  return 1000 + Math.floor(Math.random() * 2000);
}

/** The event stream of one wall: `/api/walls/:wall/events`, and `/api/events` for `main`. */
export function eventRoutes(deps: AppDeps): Hono<AppEnv> {
  const { config, store, hub, metrics, log } = deps;
  const streamQuery = validator('query', (query: Record<string, string | string[] | undefined>) => ({
    backlog: parseCount(query.backlog, 'backlog', config.backlog, 0, config.historySize),
    lastEventId: typeof query.lastEventId === 'string' && query.lastEventId !== '' ? query.lastEventId : undefined,
  }));

  /**
   * One stream, as one sequence: subscribe → replay → live.
   *
   * The subscriber is registered with the hub *before* the replay is read:
   * whatever is posted while the read is in flight is held by the hub, and
   * `goLive` writes only what comes after the replay's last cursor. So no
   * event falls between replay and live, and none is sent twice.
   *
   * Exits: the client goes away (the hub drops it on `close`), the server
   * shuts down (`hub.shutdown`), the client is too slow (the hub evicts it),
   * or the store fails mid-replay (the stream ends and the client replays
   * from its last event on reconnect).
   */
  return new Hono<AppEnv>().get('/events', wallParam, streamQuery, async (c) => {
    const { wall } = c.req.valid('param');
    const { backlog, lastEventId } = c.req.valid('query');
    // Read from the Node request: no Headers object is built and kept for the
    // life of the stream (node-server keeps the request until it closes).
    const header = c.env.incoming.headers['last-event-id'];
    const after = (typeof header === 'string' && header) || lastEventId;
    if (deps.lifecycle.draining) throw unavailable('The server is restarting; reconnect in a moment.');
    if (config.maxSubscribers !== undefined && hub.size >= config.maxSubscribers) {
      throw unavailable('This server has as many streams open as it takes; try again shortly.', 5);
    }
    if (c.req.method === 'HEAD') return c.body(null, 200, SSE_HEADERS);
    // Headers that middleware set on the way (with c.header) go out in the stream's own head.
    const subscriber = hub.open(wall, c.env.outgoing, connectRetryMs(), c.body(null).headers);
    if (subscriber === undefined) throw unavailable('The connection is busy; reconnect.');
    metrics.streamsOpened++;
    try {
      if (after === undefined) {
        hub.replay(subscriber, await store.read(wall, { limit: backlog, maxBytes: PAGE_BYTES }), true);
      } else {
        metrics.replays++;
        const limit = Math.max(REPLAY_PAGE_SIZE, backlog);
        let page = await store.read(wall, { after, limit, maxBytes: PAGE_BYTES });
        if (page.reset !== undefined) {
          metrics.resets++;
          hub.replay(subscriber, newest(page, backlog), true);
        } else {
          hub.replay(subscriber, page, false);
          // Page by page, each written only once the client took the one before (down to the bound).
          while (resumeCursor(page) !== page.head && subscriber.cursor !== undefined && !subscriber.closed) {
            await hub.drained(subscriber);
            page = await store.read(wall, { after: subscriber.cursor, limit, maxBytes: PAGE_BYTES });
            hub.replay(subscriber, page, false);
          }
        }
      }
      await hub.drained(subscriber);
      hub.goLive(subscriber);
    } catch (error) {
      log.warn({ err: error, wall }, 'stream: replay failed, closing the stream (the client resumes from its cursor)');
      hub.close(subscriber);
    }
    return RESPONSE_ALREADY_SENT;
  });
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
