import { nanoid } from 'nanoid';
import { ApiError } from './errors.js';

/** A posted message as the API returns it (see API.md, "Words"). */
export interface Message {
  readonly id: string;
  readonly wall: string;
  /** Position in its wall; assigned by the store, strictly increasing. */
  readonly cursor: string;
  readonly author: string;
  readonly body: string;
  /** Server-rendered, escaped fragment: `<div class="message" id="m{id}">`. */
  readonly html: string;
  readonly createdAt: string;
}

/** A message before the store has given it a cursor. */
export type NewMessage = Omit<Message, 'cursor'>;

export const MAX_AUTHOR_CHARS = 64;

/** C0 controls other than tab and LF (CR is normalised away before this check). */
const FORBIDDEN_IN_BODY = /[\u0000-\u0008\u000b-\u001f]/;
/** Authors are one line: no C0 control at all. */
const FORBIDDEN_IN_AUTHOR = /[\u0000-\u001f]/;
/** A UTF-16 surrogate without its pair cannot be encoded as UTF-8. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

export function validateBody(raw: unknown, maxBodyChars: number): string {
  if (typeof raw !== 'string') {
    throw new ApiError('invalid_body', 'The message needs a "body" text field.');
  }
  const body = raw.replace(/\r\n?/g, '\n');
  if (FORBIDDEN_IN_BODY.test(body) || LONE_SURROGATE.test(body)) {
    throw new ApiError(
      'invalid_body',
      'The body contains a control character; only text, tabs and line breaks are allowed.',
    );
  }
  const trimmed = body.trim();
  const length = codePoints(trimmed);
  if (length === 0) throw new ApiError('invalid_body', 'The body is empty; write something.');
  if (length > maxBodyChars) {
    throw new ApiError('invalid_body', `The body is ${length} characters long; the limit is ${maxBodyChars}.`);
  }
  return trimmed;
}

export function validateAuthor(raw: unknown): string {
  if (raw === undefined || raw === null) return '';
  if (typeof raw !== 'string') {
    throw new ApiError('invalid_author', 'The author must be text.');
  }
  if (FORBIDDEN_IN_AUTHOR.test(raw) || LONE_SURROGATE.test(raw)) {
    throw new ApiError('invalid_author', 'The author name contains a control character.');
  }
  const author = raw.trim();
  if (codePoints(author) > MAX_AUTHOR_CHARS) {
    throw new ApiError('invalid_author', `The author name is longer than ${MAX_AUTHOR_CHARS} characters.`);
  }
  return author;
}

/** The message with its cursor, fields in the contract's order. */
export function withCursor(draft: NewMessage, cursor: string): Message {
  const { id, wall, author, body, html, createdAt } = draft;
  return { id, wall, cursor, author, body, html, createdAt };
}

/** Builds a new message from validated text: a fresh nanoid, the time, and its HTML. */
export function createMessage(wall: string, author: string, body: string, now = new Date()): NewMessage {
  const id = nanoid();
  return { id, wall, author, body, html: renderMessageHtml(id, author, body), createdAt: now.toISOString() };
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch] ?? ch);
}

/**
 * http(s) URLs up to whitespace or a character that cannot be part of an
 * unescaped URL in prose. Trailing punctuation is handed back to the text
 * below, as people write "see https://example.com." and mean no dot.
 */
const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING_PUNCTUATION = /[.,;:!?)\]}]+$/;

/** Escapes `text` and turns its http(s) URLs into nofollow links. */
export function linkify(text: string): string {
  let html = '';
  let last = 0;
  for (const match of text.matchAll(URL_IN_TEXT)) {
    const start = match.index ?? 0;
    const url = match[0].replace(TRAILING_PUNCTUATION, '');
    html += escapeHtml(text.slice(last, start));
    html += `<a href="${escapeHtml(url)}" rel="nofollow noopener">${escapeHtml(url)}</a>`;
    last = start + url.length;
  }
  return html + escapeHtml(text.slice(last));
}

/**
 * The seed's `message.html`, with the author when there is one. Author and
 * body are each isolated for bidirectional text (`<bdi>`, `dir="auto"`): a
 * right-to-left override in one cannot reverse how the other reads.
 */
export function renderMessageHtml(id: string, author: string, body: string): string {
  const who = author === '' ? '' : `<b class="author"><bdi>${escapeHtml(author)}</bdi></b> `;
  return `<div class="message" id="m${escapeHtml(id)}">${who}<span class="body" dir="auto">${linkify(body)}</span></div>`;
}
