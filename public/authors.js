// @ts-check
/**
 * Who wrote a message, as the page shows it: the same code as the server's
 * src/views/authors.ts, for messages that arrive live (test/e2e/page-render.test.ts
 * checks that the two agree). No DOM here: Node imports it in that test.
 */

/** Colours an avatar can take (`.hue-0` … `.hue-11` in wall.css). */
export const AVATAR_HUES = 12;

/** Consecutive messages of one author within this time of each other are one group. */
export const GROUP_WINDOW_MS = 5 * 60_000;

/**
 * What tells authors apart: the verified id when there is one, else the
 * name as typed; `''` for an anonymous post, which never joins a group.
 * @param {string} author
 * @param {string | null | undefined} authorId
 */
export function authorKey(author, authorId) {
  if (authorId !== null && authorId !== undefined) return `id:${authorId}`;
  return author === '' ? '' : `name:${author}`;
}

/**
 * FNV-1a over UTF-16 code units: small, stable, the same in every engine.
 * @param {string} key
 */
export function hueOf(key) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % AVATAR_HUES;
}

/**
 * The first letter (or digit) of the first and of the last word, in upper case.
 * @param {string} name
 */
export function initialsOf(name) {
  const words = name
    .trim()
    .split(/\s+/u)
    .filter((word) => word !== '');
  /** @param {string} word */
  const first = (word) => [...word].find((ch) => /[\p{L}\p{N}]/u.test(ch));
  const letters = [words[0], words.length > 1 ? words.at(-1) : undefined]
    .map((word) => (word === undefined ? undefined : first(word)))
    .filter((letter) => letter !== undefined);
  if (letters.length === 0) return [...name.trim()][0] ?? '?';
  return letters.join('').toLocaleUpperCase('en');
}

/**
 * @typedef {object} GroupPoint
 * @property {string} key
 * @property {number} atMs
 * @property {string} day `YYYY-MM-DD`, local
 */

/**
 * Whether `next` continues the group that `previous` is in.
 * @param {GroupPoint | undefined} previous
 * @param {GroupPoint} next
 */
export function continuesGroup(previous, next) {
  if (previous === undefined || next.key === '' || next.key !== previous.key || next.day !== previous.day) return false;
  return Math.abs(next.atMs - previous.atMs) <= GROUP_WINDOW_MS;
}
