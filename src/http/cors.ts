/**
 * Cross-origin use of the API (`WALLCAST_CORS_ORIGINS`), for pages served by
 * other sites: streams, history and message reads, posts and deletes, with
 * their preflight. Never the pages themselves: this is mounted on `/api/*`.
 *
 * Hono's own `cors()` sets headers after `next()`, which breaks a stream
 * whose head is already on the wire; this one sets them before, with
 * `c.header`, and the stream's head carries them (routes/events.ts).
 */
import type { MiddlewareHandler } from 'hono';

/** Request headers a page elsewhere may send: posting's and resuming's. */
const ALLOWED_HEADERS = 'Content-Type, Authorization, Idempotency-Key, Last-Event-ID';
/** Response headers it may read: where a post went, when to retry, whether it was a replay. */
const EXPOSED_HEADERS = 'Location, Retry-After, Idempotent-Replayed, WWW-Authenticate';
/** How long a browser may keep a preflight's answer. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/** Whether `origin` (an `Origin` header) is one `allowed` names; `*` is any. */
function originAllowed(allowed: readonly string[], origin: string | undefined): boolean {
  return origin !== undefined && (allowed.includes('*') || allowed.includes(origin));
}

export function cors(allowed: readonly string[]): MiddlewareHandler {
  const any = allowed.includes('*');
  return async (c, next) => {
    const origin = c.req.header('Origin');
    // The answer depends on the Origin whenever origins are listed: caches must keep them apart.
    if (!any) c.header('Vary', 'Origin');
    if (!originAllowed(allowed, origin)) {
      await next();
      return;
    }
    c.header('Access-Control-Allow-Origin', any ? '*' : (origin as string));
    // A named origin may send credentials (htmx's SSE extension opens its EventSource with
    // them): a page the operator named is trusted with its visitor's token cookie, as its
    // form posts are (http/same-origin.ts). `*` cannot.
    if (!any) c.header('Access-Control-Allow-Credentials', 'true');
    c.header('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    if (c.req.method === 'OPTIONS' && c.req.header('Access-Control-Request-Method') !== undefined) {
      c.header('Access-Control-Allow-Methods', 'GET, HEAD, POST, DELETE');
      c.header('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      c.header('Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE_SECONDS));
      return c.body(null, 204);
    }
    await next();
  };
}
