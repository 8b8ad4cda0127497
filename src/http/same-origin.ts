import type { Context } from 'hono';
import { ApiError } from '../errors.js';

/**
 * Cross-site form posts are refused: a page elsewhere must not post as the
 * visitor. A form post from another site says so in `Sec-Fetch-Site`, or in
 * an `Origin` whose host is not ours; a post without either (curl) is not a
 * browser acting for someone. An origin the operator named in
 * `WALLCAST_CORS_ORIGINS` (by name: `*` does not count) may post forms too.
 * A post whose token came in a cookie is held to the same check (issue 16):
 * the browser sends the cookie whoever's page posts.
 */
export function assertSameOrigin(
  c: Context,
  trusted: readonly string[] = [],
  refusal = 'Cross-site form posts are not accepted.',
): void {
  const origin = c.req.header('Origin');
  const host = c.req.header('Host');
  if (origin !== undefined && trusted.includes(origin)) return;
  if (c.req.header('Sec-Fetch-Site') === 'cross-site') {
    throw new ApiError('forbidden', refusal);
  }
  if (origin === undefined) return;
  let originHost: string | undefined;
  try {
    originHost = new URL(origin).host;
  } catch {
    originHost = undefined;
  }
  if (originHost === undefined || originHost !== host) {
    throw new ApiError('forbidden', refusal);
  }
}
