import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context } from 'hono';
import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../app.js';
import { unavailable } from '../errors.js';
import { parseCount } from '../http.js';
import { SSE_HEADERS } from '../sse.js';
import type { ReadResult } from '../store/store.js';
import { DEFAULT_WALL, parseWall } from '../wall.js';

/** Events read per store call while replaying after a Last-Event-ID. */
const REPLAY_PAGE_SIZE = 500;

/** `retry:` sent first, jittered per connection so a restart does not bring every client back at once. */
export function connectRetryMs(): number {
  return 1000 + Math.floor(Math.random() * 2000);
}

/** The event streams: `/api/walls/{wall}/events` and `/api/events` for `main`. */
export function eventRoutes(deps: AppDeps): Hono<AppEnv> {
  const { config, store, hub, metrics } = deps;
  const routes = new Hono<AppEnv>();

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
  const stream = async (c: Context<AppEnv>, wall: string) => {
    // Read from the Node request: no Headers object is built and kept for the
    // life of the stream (node-server keeps the request until it closes).
    const header = c.env.incoming.headers['last-event-id'];
    const after = (typeof header === 'string' && header) || c.req.query('lastEventId') || undefined;
    const backlog = parseCount(c.req.query('backlog'), 'backlog', config.backlog, 0, config.historySize);
    if (deps.lifecycle.draining) throw unavailable('The server is restarting; reconnect in a moment.');
    if (config.maxSubscribers !== undefined && hub.size >= config.maxSubscribers) {
      throw unavailable('This server has as many streams open as it takes; try again shortly.', 5);
    }
    if (c.req.method === 'HEAD') return c.body(null, 200, SSE_HEADERS);
    const subscriber = hub.open(wall, c.env.outgoing, connectRetryMs());
    if (subscriber === undefined) throw unavailable('The connection is busy; reconnect.');
    metrics.streamsOpened++;
    try {
      if (after === undefined) {
        hub.replay(subscriber, await store.read(wall, { limit: backlog }), true);
      } else {
        metrics.replays++;
        const limit = Math.max(REPLAY_PAGE_SIZE, backlog);
        let page = await store.read(wall, { after, limit });
        if (page.reset !== undefined) {
          metrics.resets++;
          hub.replay(subscriber, newest(page, backlog), true);
        } else {
          hub.replay(subscriber, page, false);
          while (page.events.length === limit && subscriber.cursor !== undefined && !subscriber.closed) {
            await hub.drained(subscriber);
            page = await store.read(wall, { after: subscriber.cursor, limit });
            hub.replay(subscriber, page, false);
          }
        }
      }
      await hub.drained(subscriber);
      hub.goLive(subscriber);
    } catch (error) {
      console.error(`wallcast: replay of ${wall} failed, closing the stream: ${String(error)}`);
      hub.close(subscriber);
    }
    return RESPONSE_ALREADY_SENT;
  };

  routes.get('/walls/:wall/events', (c) => stream(c, parseWall(c.req.param('wall'))));
  routes.get('/events', (c) => stream(c, DEFAULT_WALL));
  return routes;
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
