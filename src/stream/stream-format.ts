/**
 * How a stream encodes what it sends. A format is stateless: where the
 * stream stands is the stream's own (`StreamPosition`), which a format
 * reads to write each event's `id:`. So one format object serves every
 * stream that uses it.
 */
import type { ResetReason, WallEvent } from '../store/store.js';
import type { StreamPosition } from './stream-position.js';

/** The data of a stream's events: the message JSON (the contract's default), or its HTML fragment (htmx). */
export type StreamDataFormat = 'json' | 'html';

export interface StreamFormat {
  /**
   * Whether every stream of a wall in this format sends the same bytes for
   * the same events (ids are the wall's own cursors, data the same): then
   * the hub's joined frames and the replay memo are shared by all of them.
   */
  readonly shared: boolean;
  /** Whether its frames are the plain JSON frames the hub joins once per pass (then a stream sends those). */
  readonly hubFrames: boolean;
  /** The bytes of `events` of `wall`, sent from `position` (which the stream moves past them afterwards). */
  encode(wall: string, events: readonly WallEvent[], position: StreamPosition): Buffer;
  /** `event: reset` for `wall`, whose position becomes `start` (already set in `position`). */
  reset(wall: string, start: string, reason: ResetReason, position: StreamPosition): Buffer;
}
