import type { ResetReason, WallEvent } from '../store/store.js';
import { encodeReset, joinFrames } from './frames.js';
import type { StreamFormat } from './stream-format.js';

/**
 * The plain stream: one wall, the message JSON as data, the wall's cursors
 * as ids. Its frames are the same for every such stream, so they are
 * encoded once per event (frames.ts) and joined once per pass (the hub).
 */
export const plainFormat: StreamFormat = {
  shared: true,
  hubFrames: true,
  encode: (_wall: string, events: readonly WallEvent[]) => joinFrames(events),
  reset: (_wall: string, start: string, reason: ResetReason) => encodeReset(start, reason),
};
