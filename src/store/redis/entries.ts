import { type NewMessage, withCursor } from '../../message.js';
import type { WallEvent } from '../store.js';

/** A stream entry as Redis answers it: its id, and its fields as a flat [name, value, …] list. */
export type FeedEntry = [id: string, fields: string[]];

/**
 * A stream entry's value for `name`. Entries are flat [name, value, …]
 * lists, and a value may spell a name (a wall called `id`), so only the
 * names are searched.
 */
export function fieldOf(fields: string[], name: string): string {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1] ?? '';
  return '';
}

/** The event a wall's (or the feed's) entry holds, at `cursor`. */
export function toEvent(cursor: string, fields: string[]): WallEvent {
  if (fieldOf(fields, 't') === 'delete') return { type: 'delete', cursor, id: fieldOf(fields, 'id') };
  const message = withCursor(JSON.parse(fieldOf(fields, 'j')) as NewMessage, cursor);
  return { type: 'message', cursor, message };
}
