/** Reading what a request says: its preferences, its query counts and cursors, its credentials. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { ApiError } from '../errors.js';

/** A browser navigation or a no-JS form post: it asked for HTML. */
export function prefersHtml(c: Context): boolean {
  return (c.req.header('Accept') ?? '').includes('text/html');
}

/** Messages a history read returns without `limit` (API.md: default 50). */
export const DEFAULT_PAGE_SIZE = 50;

export { PAGE_BYTES } from '../store/page.js';

/** A query value as Hono's validator hands it: absent, once, or repeated. */
type QueryValue = string | string[] | undefined;

/**
 * A count from the query (`limit`, `backlog`): absent → `fallback`; not a
 * whole number, repeated, or below `min` → 400 `invalid_limit`; above
 * `max` → `max`.
 */
export function parseCount(raw: QueryValue, name: string, fallback: number, min: number, max: number): number {
  if (raw === undefined) return Math.min(fallback, max);
  if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw) || Number(raw) < min) {
    throw new ApiError('invalid_limit', `"${name}" must be a whole number from ${min} to ${max}.`);
  }
  return Math.min(Number(raw), max);
}

/** Longest cursor worth looking up: no store's cursor is longer (API.md, "Words"). */
const MAX_CURSOR_CHARS = 64;

/**
 * `after` (or `before`) of a history read: a string that could be a cursor. Anything
 * else is 400 `invalid_cursor`; a cursor-like string the store cannot resume
 * is the store's to answer (with a reset).
 */
export function parseAfter(raw: QueryValue, name = 'after'): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw.length > MAX_CURSOR_CHARS || /[\u0000-\u001f]/.test(raw)) {
    throw new ApiError('invalid_cursor', `"${name}" is not a cursor: use one this API returned.`);
  }
  return raw;
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

/** Compares digests, so the time taken says nothing about how much of the token matched. */
export function bearerMatches(authorization: string | undefined, token: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(authorization ?? ''), digest(`Bearer ${token}`));
}
