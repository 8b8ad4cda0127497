import type { ResetReason, WallEvent } from '../store/store.js';
import { encodeEvent, encodeReset } from './frames.js';
import type { StreamFormat } from './stream-format.js';

/** htmx frames by event, cached like the JSON ones (frames.ts). */
const htmlFrames = new WeakMap<WallEvent, Buffer>();

/**
 * A wall event as htmx's SSE extension swaps it: a message's fragment as
 * data (event `message`), a delete as an out-of-band delete of its element.
 */
export function htmlEventBody(wallEvent: WallEvent): { event?: string; data: string } {
  if (wallEvent.type === 'message') return { data: wallEvent.message.html };
  const id = wallEvent.id.replace(/[^A-Za-z0-9_-]/g, '');
  return { event: 'delete', data: `<div id="m${id}" hx-swap-oob="delete"></div>` };
}

function encodeHtml(wallEvent: WallEvent): Buffer {
  let frame = htmlFrames.get(wallEvent);
  if (frame === undefined) {
    frame = Buffer.from(encodeEvent({ ...htmlEventBody(wallEvent), id: wallEvent.cursor }));
    htmlFrames.set(wallEvent, frame);
  }
  return frame;
}

/** One wall with the messages' HTML as data (for htmx): ids are the wall's cursors, so frames are shared. */
export const htmlFormat: StreamFormat = {
  shared: true,
  hubFrames: false,
  encode: (_wall: string, events: readonly WallEvent[]) =>
    events.length === 1 ? encodeHtml(events[0] as WallEvent) : Buffer.concat(events.map(encodeHtml)),
  reset: (wall: string, start: string, reason: ResetReason) => encodeReset(start, reason, wall),
};
