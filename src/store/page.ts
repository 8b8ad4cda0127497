/**
 * Bytes of messages in one page: a history read, a page's backlog, one
 * replay write. A page of long messages stops early (the reader continues
 * from its cursor), so no response is built, held or serialised in one
 * piece larger than this, and one big page cannot stall every stream.
 */
export const PAGE_BYTES = 1024 * 1024;

/**
 * One page of a read, as the contract bounds it (store.ts, `ReadQuery`):
 * up to `limit` items and `maxBytes` of them, but never fewer than one, so
 * a page of long messages stops early and the reader goes on from its last
 * cursor. The memory and SQLite stores page through this one function; the
 * Redis store does the same inside its read script.
 *
 * `items` come in reading order (oldest first going forward, newest first
 * going back) and are pulled lazily: a database cursor is read one row past
 * the page at most, the row that tells whether there is `more`.
 */
export function takePage<T>(
  items: Iterable<T>,
  bytesOf: (item: T) => number,
  limit: number,
  maxBytes = Number.POSITIVE_INFINITY,
): { items: T[]; more: boolean } {
  const page: T[] = [];
  let bytes = 0;
  for (const item of items) {
    if (page.length >= limit) return { items: page, more: true };
    bytes += bytesOf(item);
    if (bytes > maxBytes && page.length > 0) return { items: page, more: true };
    page.push(item);
  }
  return { items: page, more: false };
}
