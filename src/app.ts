import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import { Hono } from 'hono';
import type { Config } from './config.js';
import { ApiError } from './errors.js';
import { errorBody, errorPage, prefersHtml } from './http.js';
import type { Hub } from './hub.js';
import type { Lifecycle } from './lifecycle.js';
import type { Metrics } from './metrics.js';
import { compatRoutes } from './routes/compat.js';
import { eventRoutes } from './routes/events.js';
import { messageRoutes } from './routes/messages.js';
import { opsRoutes } from './routes/ops.js';
import { pageRoutes } from './routes/pages.js';
import type { MessageStore } from './store/store.js';

export type AppEnv = { Bindings: HttpBindings };

export interface AppDeps {
  config: Config;
  store: MessageStore;
  hub: Hub;
  metrics: Metrics;
  /** Draining after SIGTERM: new streams and posts are refused, `/readyz` answers 503, long polls end. */
  lifecycle: Lifecycle;
}

/** The whole HTTP surface; no I/O until a request comes. */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.route('/api', messageRoutes(deps));
  app.route('/api', eventRoutes(deps));
  app.route('/', opsRoutes(deps));
  app.route('/', compatRoutes(deps));
  app.route('/', pageRoutes(deps));
  app.notFound((c) =>
    respondWithError(c, new ApiError('not_found', `There is nothing at ${c.req.method} ${c.req.path}.`)),
  );
  app.onError((error, c) => {
    if (error instanceof ApiError) return respondWithError(c, error);
    console.error('wallcast: unexpected error', error);
    return respondWithError(c, new ApiError('internal', 'Something went wrong on our side; it has been logged.'));
  });
  return app;
}

function respondWithError(c: Context, error: ApiError): Response {
  for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
  const status = error.status as 400;
  return prefersHtml(c) ? c.html(errorPage(error), status) : c.json(errorBody(error), status);
}
