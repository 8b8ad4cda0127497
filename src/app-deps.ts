/**
 * What every route is given. Its own module, so that routes depend on these
 * types and not on app.ts (which imports every route).
 */
import type { HttpBindings } from '@hono/node-server';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { ClientAddresses } from './http/client-address.js';
import type { ParserRelease } from './http/stream-connection.js';
import type { Lifecycle } from './lifecycle.js';
import type { Metrics } from './metrics.js';
import type { Posting } from './posting.js';
import type { MessageStore } from './store/store.js';
import type { Hub } from './stream/hub.js';
import type { LongPolls } from './stream/long-polls.js';
import type { StreamContext } from './stream/stream.js';

/** The Hono environment: node-server's bindings give routes the Node request and response. */
export type AppEnv = { Bindings: HttpBindings };

export interface AppDeps {
  config: Config;
  store: MessageStore;
  /** The fan-out: every open stream by wall (its size is the subscriber cap's count). */
  hub: Hub;
  /** What every stream shares: the hub, the store's reads, the replay memo. */
  streams: StreamContext;
  /** This server's HTTP/1.1 parser release for streams (http/stream-connection.ts). */
  parserRelease: ParserRelease;
  /** Long polls waiting for a wall's next event (the Tornado-compat door). */
  longPolls: LongPolls;
  /** The one path every door that posts goes through. */
  posting: Posting;
  /** Who a request comes from (the socket, or a trusted proxy's X-Forwarded-For). */
  clients: ClientAddresses;
  metrics: Metrics;
  /** Draining after SIGTERM: new streams and posts are refused, `/readyz` answers 503, long polls end. */
  lifecycle: Lifecycle;
  log: Logger;
}
