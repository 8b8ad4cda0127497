/**
 * What every route is given. Its own module, so that routes depend on these
 * types and not on app.ts (which imports every route).
 */
import type { HttpBindings } from '@hono/node-server';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { ClientAddresses } from './http/client-address.js';
import type { Hub } from './hub.js';
import type { Lifecycle } from './lifecycle.js';
import type { Metrics } from './metrics.js';
import type { Posting } from './posting.js';
import type { MessageStore } from './store/store.js';

/** The Hono environment: node-server's bindings give routes the Node request and response. */
export type AppEnv = { Bindings: HttpBindings };

export interface AppDeps {
  config: Config;
  store: MessageStore;
  hub: Hub;
  /** The one path every door that posts goes through. */
  posting: Posting;
  /** Who a request comes from (the socket, or a trusted proxy's X-Forwarded-For). */
  clients: ClientAddresses;
  metrics: Metrics;
  /** Draining after SIGTERM: new streams and posts are refused, `/readyz` answers 503, long polls end. */
  lifecycle: Lifecycle;
  log: Logger;
}
