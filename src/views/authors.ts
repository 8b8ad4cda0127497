/**
 * Who wrote a message, as the page shows it: the key that tells authors
 * apart, their avatar (initials on a colour that stays theirs), and when
 * two messages belong to one group. `public/authors.js` is the same code
 * for messages that arrive live; test/e2e/page-render.test.ts checks that
 * the two agree, so a person keeps one colour on every page and in every tab.
 */

/** Colours an avatar can take (`.hue-0` … `.hue-11` in wall.css, each at 4.5:1 or more with white initials). */
export const AVATAR_HUES = 12;

/**
 * Consecutive messages of one author within this time of each other are one
 * group (one avatar, one name); Slack and Discord group within a few minutes.
 */
export const GROUP_WINDOW_MS = 5 * 60_000;

/**
 * What tells authors apart: the verified id when there is one, else the
 * name as typed. An anonymous post has none (`''`): it never joins a group,
 * since two anonymous posts may be two people. A typed name never matches
 * a verified author of the same name.
 */
export function authorKey(author: string, authorId: string | null | undefined): string {
  if (authorId !== null && authorId !== undefined) return `id:${authorId}`;
  return author === '' ? '' : `name:${author}`;
}

/** FNV-1a over UTF-16 code units: small, stable, and the same in every JavaScript engine. */
export function hueOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % AVATAR_HUES;
}

/**
 * One or two characters: the first letter (or digit) of the first and of
 * the last word, in upper case ("Ann Lee" → "AL", "bob" → "B"); a name of
 * neither (an emoji) gives its first character.
 */
export function initialsOf(name: string): string {
  const words = name
    .trim()
    .split(/\s+/u)
    .filter((word) => word !== '');
  const first = (word: string) => [...word].find((ch) => /[\p{L}\p{N}]/u.test(ch));
  const letters = [words[0], words.length > 1 ? words.at(-1) : undefined]
    .map((word) => (word === undefined ? undefined : first(word)))
    .filter((letter): letter is string => letter !== undefined);
  if (letters.length === 0) return [...name.trim()][0] ?? '?';
  return letters.join('').toLocaleUpperCase('en');
}

/** What the grouping needs of a message. */
export interface GroupPoint {
  key: string;
  atMs: number;
  day: string;
}

/** Whether `next` continues the group that `previous` is in. */
export function continuesGroup(previous: GroupPoint | undefined, next: GroupPoint): boolean {
  if (previous === undefined || next.key === '' || next.key !== previous.key || next.day !== previous.day) return false;
  return Math.abs(next.atMs - previous.atMs) <= GROUP_WINDOW_MS;
}
