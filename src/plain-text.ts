/**
 * Rules of the text people see, shared by the doors that take it: a post's
 * body and author (posting.ts) and a token's `name` claim (auth/claims.ts,
 * issue 16: "validated like author"). Pure functions, no HTTP: each caller
 * words its own refusal.
 */
import { MAX_AUTHOR_CHARS } from './message.js';

/** A UTF-16 surrogate without its pair cannot be encoded as UTF-8. */
export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Author names are one line: no C0 control at all. */
const FORBIDDEN_IN_AUTHOR = /[\u0000-\u001f]/;

/** Length as people count it: code points, not UTF-16 units. */
export function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** An author name trimmed and accepted, or what is wrong with it. */
export type AuthorNameCheck = { name: string } | { problem: 'control_character' | 'too_long' };

/** One line, valid UTF-16, at most MAX_AUTHOR_CHARS code points once trimmed. */
export function checkAuthorName(raw: string): AuthorNameCheck {
  if (FORBIDDEN_IN_AUTHOR.test(raw) || LONE_SURROGATE.test(raw)) return { problem: 'control_character' };
  const name = raw.trim();
  if (codePoints(name) > MAX_AUTHOR_CHARS) return { problem: 'too_long' };
  return { name };
}
