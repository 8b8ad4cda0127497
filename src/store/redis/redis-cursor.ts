/**
 * Cursors of the Redis store: `{epoch}-{entry id}`. The entry id orders
 * events within a wall; the epoch names the Redis history the id belongs
 * to, so that after Redis lost its data an old cursor is told apart from a
 * position in the new history (see scripts.ts, `{prefix}epoch`).
 */
import { randomBytes } from 'node:crypto';
import { compareStreamIds, isStreamId, streamIdBefore } from './stream-id.js';

const EPOCH = /^[0-9a-f]{8}$/;

/** A fresh epoch, offered to the scripts in case Redis has none (yet, or any more). */
export function newEpoch(): string {
  return randomBytes(4).toString('hex');
}

export function formatCursor(epoch: string, entryId: string): string {
  return `${epoch}-${entryId}`;
}

/** The epoch and entry id of a cursor Redis could have issued, or undefined. */
export function parseCursor(cursor: string): { epoch: string; entryId: string } | undefined {
  const dash = cursor.indexOf('-');
  const epoch = cursor.slice(0, dash);
  const entryId = cursor.slice(dash + 1);
  return dash !== -1 && EPOCH.test(epoch) && isStreamId(entryId) ? { epoch, entryId } : undefined;
}

/** Cursors of one wall compare by entry id. */
export function compareCursors(a: string, b: string): number {
  return compareStreamIds(a.slice(a.indexOf('-') + 1), b.slice(b.indexOf('-') + 1));
}

/** The cursor just before `cursor`: resuming after it yields `cursor`'s event first. */
export function cursorBefore(cursor: string): string {
  const dash = cursor.indexOf('-');
  return formatCursor(cursor.slice(0, dash), streamIdBefore(cursor.slice(dash + 1)));
}
