import type { ResetReason, WallEvent } from '../store/store.js';
import { cachedFrames, type EventBody, encodeReset, joinFrames } from './frames.js';
import type { StreamFormat } from './stream-format.js';

/**
 * A wall event as htmx's SSE extension swaps it: a message's fragment as
 * data (event `message`), a delete as an out-of-band delete of its element.
 */
export const htmlEventBody: EventBody = (wallEvent) => {
  if (wallEvent.type === 'message') return { data: wallEvent.message.html };
  const id = wallEvent.id.replace(/[^A-Za-z0-9_-]/g, '');
  return { event: 'delete', data: `<div id="m${id}" hx-swap-oob="delete"></div>` };
};

/** htmx frames by event, cached like the JSON ones (frames.ts). */
const encodeHtml = cachedFrames(htmlEventBody);

/** One wall with the messages' HTML as data (for htmx): ids are the wall's cursors, so frames are shared. */
export const htmlFormat: StreamFormat = {
  shared: true,
  hubFrames: false,
  encode: (_wall: string, events: readonly WallEvent[]) => joinFrames(events, encodeHtml),
  reset: (wall: string, start: string, reason: ResetReason) => encodeReset(start, reason, wall),
};
