/** Small request/response helpers shared by the routes. */
import type { Context } from 'hono';
import { ApiError } from './errors.js';
import { escapeHtml } from './message.js';

/** A browser navigation or a no-JS form post: it asked for HTML. */
export function prefersHtml(c: Context): boolean {
  return (c.req.header('Accept') ?? '').includes('text/html');
}

/** `next` after a form post: a path on this site, never another origin. */
export function parseNext(raw: unknown): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (
    typeof raw !== 'string' ||
    !raw.startsWith('/') ||
    raw.includes('//') ||
    raw.includes('\\') ||
    /[\u0000-\u001f\u007f]/.test(raw) ||
    raw.length > 2000
  ) {
    throw new ApiError('invalid_next', '"next" must be a path on this site, such as /w/main.');
  }
  return raw;
}

/** Cross-site form posts are refused: a page elsewhere must not post as the visitor. */
export function assertSameOrigin(c: Context): void {
  const origin = c.req.header('Origin');
  const host = c.req.header('Host');
  if (c.req.header('Sec-Fetch-Site') === 'cross-site') {
    throw new ApiError('forbidden', 'Cross-site form posts are not accepted.');
  }
  if (origin === undefined) return;
  let originHost: string | undefined;
  try {
    originHost = new URL(origin).host;
  } catch {
    originHost = undefined;
  }
  if (originHost === undefined || originHost !== host) {
    throw new ApiError('forbidden', 'Cross-site form posts are not accepted.');
  }
}

/**
 * A count from the query (`limit`, `backlog`): absent → `fallback`; not a
 * whole number or below `min` → 400 `invalid_limit`; above `max` → `max`.
 */
export function parseCount(raw: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (raw === undefined) return Math.min(fallback, max);
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < min) {
    throw new ApiError('invalid_limit', `"${name}" must be a whole number from ${min} to ${max}.`);
  }
  return Math.min(Number(raw), max);
}

export function errorBody(error: ApiError): { error: { code: string; message: string } } {
  return { error: { code: error.code, message: error.message } };
}

export function errorPage(error: ApiError): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${error.status} · wallcast</title><link rel="stylesheet" href="/static/wall.css"></head>
<body><main class="error"><h1>${error.status}</h1><p data-code="${escapeHtml(error.code)}">${escapeHtml(error.message)}</p>
<p><a href="/">Back to the wall</a></p></main></body></html>
`;
}
