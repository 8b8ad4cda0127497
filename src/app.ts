import type { Context, MiddlewareHandler } from 'hono';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppDeps, AppEnv } from './app-deps.js';
import { AuthFailure, BEARER_CHALLENGE, wwwAuthenticate } from './auth/auth-failure.js';
import { KeySetUnavailable } from './auth/remote-key-set.js';
import { ApiError, type ErrorCode, errorBody, unavailable } from './errors.js';
import { cors } from './http/cors.js';
import { prefersHtml } from './http/request.js';
import { compatRoutes } from './routes/compat.js';
import { docsRoutes } from './routes/docs.js';
import { eventRoutes } from './routes/events.js';
import { messageRoutes } from './routes/messages.js';
import { opsRoutes } from './routes/ops.js';
import { pageRoutes } from './routes/pages.js';
import { ticketRoutes } from './routes/tickets.js';
import { wallRoutes } from './routes/walls.js';
import { StoreUnavailableError, WallLimitError } from './store/store.js';
import { renderErrorPage } from './views/error-page.js';
import { WallNameError } from './wall.js';

/** The whole HTTP surface; no I/O until a request comes. */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  if (deps.config.accessLog === 'on') app.use(accessLog(deps));
  // Before next(), with c.header: it reaches every response, event streams included.
  const worker = deps.workerIndex === undefined ? undefined : String(deps.workerIndex);
  app.use(async (c, next) => {
    c.header('X-Content-Type-Options', 'nosniff');
    // With workers: which one answered (for people debugging a machine, and its tests).
    if (worker !== undefined) c.header('Wallcast-Worker', worker);
    await next();
  });
  if (deps.config.corsOrigins.length > 0) app.use('/api/*', cors(deps.config.corsOrigins));
  // With tokens, what a read answers depends on who asks: no shared cache may hand one reader's answer to another.
  if (deps.auth.keyConfigured) {
    app.use('/api/*', async (c, next) => {
      c.header('Vary', 'Authorization, Cookie', { append: true });
      await next();
    });
  }
  // One wall's messages and events, mounted per wall and, for `main`, at the short aliases.
  const wall = new Hono<AppEnv>().route('/', messageRoutes(deps)).route('/', eventRoutes(deps));
  app.route('/', wallRoutes(deps));
  app.route('/', ticketRoutes(deps));
  app.route('/api/walls/:wall', wall);
  app.route('/api', wall);
  app.route('/', opsRoutes(deps));
  app.route('/', compatRoutes(deps));
  app.route('/', docsRoutes());
  app.route('/', pageRoutes(deps, { wallListServed: true }));
  const refuse = (c: Context, error: ApiError) => {
    deps.metrics.refused(error.reason ?? error.code);
    return respondWithError(c, error);
  };
  app.notFound((c) => refuse(c, new ApiError('not_found', `There is nothing at ${c.req.method} ${c.req.path}.`)));
  app.onError((error, c) => refuse(c, toApiError(error, c, deps)));
  return app;
}

/** One line per request once it is answered (a stream: once its replay is written and it is live). */
function accessLog(deps: AppDeps): MiddlewareHandler<AppEnv> {
  const log = deps.log.child({ component: 'access' });
  return async (c, next) => {
    const started = performance.now();
    await next();
    log.info(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
        client: c.env.incoming.socket.remoteAddress,
      },
      'request',
    );
  };
}

/**
 * Every failure, as the contract's error: the one place where HTTP errors
 * are made of what went wrong below (a store that does not answer) and of
 * Hono's own exceptions. Anything else is a bug: logged, answered 500.
 */
function toApiError(error: Error, c: Context, deps: AppDeps): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof WallNameError) return new ApiError('invalid_wall', error.message);
  if (error instanceof AuthFailure) {
    return new ApiError(error.reason, error.message, { 'WWW-Authenticate': wwwAuthenticate(error) }, error.status);
  }
  if (error instanceof KeySetUnavailable) {
    deps.log.warn({ err: error }, 'token keys not fetched yet: answered 503');
    return unavailable(
      'The keys that verify tokens could not be fetched yet. Try again shortly.',
      'keys_unavailable',
      error.retryAfterSeconds,
    );
  }
  if (error instanceof StoreUnavailableError) {
    deps.log.warn({ err: error, method: c.req.method, path: c.req.path }, 'store unavailable: answered 503');
    return unavailable(storeTroubleMessage(c.req.method, error), 'store_unavailable', error.retryAfterSeconds);
  }
  if (error instanceof WallLimitError) {
    return new ApiError(
      'too_many_walls',
      `This server keeps at most ${error.maxWalls} walls and has no room for a new one; post to an existing wall.`,
    );
  }
  if (error instanceof HTTPException) {
    const code = CODE_OF_STATUS[error.status] ?? (error.status < 500 ? 'bad_request' : 'internal');
    return new ApiError(code, error.message || 'The request was refused.', {}, error.status);
  }
  deps.log.error({ err: error, method: c.req.method, path: c.req.path }, 'unexpected error');
  return new ApiError('internal', 'Something went wrong on our side; it has been logged.');
}

/** What a 503 from the store means for the request: whether a post was stored is said as truly as it is known. */
function storeTroubleMessage(method: string, error: StoreUnavailableError): string {
  if (method !== 'POST' && method !== 'DELETE') return 'The message store is not available. Try again shortly.';
  if (!error.uncertain) return 'The message store is not available; nothing was changed. Try again shortly.';
  return (
    'The message store did not confirm in time; it may have been done. Retry with the same ' +
    'Idempotency-Key to have it done exactly once.'
  );
}

/** Hono's exceptions carry a status only; the contract's code for it. */
const CODE_OF_STATUS: Partial<Record<number, ErrorCode>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'unavailable',
};

function respondWithError(c: Context, error: ApiError): Response {
  for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
  // RFC 9110 §15.5.2: every 401 says how to authenticate (the publish and admin tokens' too).
  if (error.status === 401 && error.headers['WWW-Authenticate'] === undefined) {
    c.header('WWW-Authenticate', BEARER_CHALLENGE);
  }
  const status = error.status as 400;
  return prefersHtml(c) ? c.html(renderErrorPage(error, c.req.path), status) : c.json(errorBody(error), status);
}
