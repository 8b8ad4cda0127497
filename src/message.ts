/**
 * The message: its type as the API returns it and as every store keeps it.
 * Nothing here knows HTTP: validating what a client sent is posting's job
 * (posting.ts), rendering is the views' (views/message-html.ts).
 */

/** A posted message as the API returns it (see API.md, "Words"). */
export interface Message {
  readonly id: string;
  readonly wall: string;
  /** Position in its wall; assigned by the store, strictly increasing. */
  readonly cursor: string;
  /** The name people see: typed by the poster, or a verified token's `name`. */
  readonly author: string;
  /** The verified author's id (the token's `sub`); null for an anonymous post. */
  readonly authorId: string | null;
  readonly body: string;
  /** Server-rendered, escaped fragment: `<div class="message" id="m{id}">`. */
  readonly html: string;
  readonly createdAt: string;
}

/** A message before the store has given it a cursor. */
export type NewMessage = Omit<Message, 'cursor'>;

/** The longest author name, in code points (posting validates it; config sizes request bodies by it). */
export const MAX_AUTHOR_CHARS = 64;

/**
 * The message with its cursor, fields in the contract's order. A message
 * stored before authors were verified has no `authorId`: it reads as null
 * (anonymous), which it was.
 */
export function withCursor(draft: NewMessage, cursor: string): Message {
  const { id, wall, author, body, html, createdAt } = draft;
  return { id, wall, cursor, author, authorId: draft.authorId ?? null, body, html, createdAt };
}

/** A message as a store kept it (its JSON parsed), in the contract's shape whatever version stored it. */
export function storedMessage(parsed: Message): Message {
  return parsed.authorId === undefined ? withCursor(parsed, parsed.cursor) : parsed;
}
