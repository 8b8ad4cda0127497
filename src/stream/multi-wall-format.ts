import type { ResetReason, WallEvent } from '../store/store.js';
import { type EventBody, encodeEvent, encodeReset, jsonEventBody } from './frames.js';
import { htmlEventBody } from './html-format.js';
import type { StreamDataFormat, StreamFormat } from './stream-format.js';
import type { StreamPosition } from './stream-position.js';

/**
 * A stream that follows several walls. Every event's `id:` is the stream's
 * whole position with the event's wall moved to it (StreamPosition), so the
 * client's Last-Event-ID resumes every wall exactly. The ids differ per
 * stream, so its frames are its own.
 */
export function multiWallFormat(data: StreamDataFormat): StreamFormat {
  return data === 'json' ? multiWallJson : multiWallHtml;
}

function multiWall(body: EventBody): StreamFormat {
  return {
    shared: false,
    hubFrames: false,
    encode(wall: string, events: readonly WallEvent[], position: StreamPosition): Buffer {
      let text = '';
      for (const wallEvent of events) {
        text += encodeEvent({ ...body(wallEvent), id: position.idWith(wall, wallEvent.cursor) });
      }
      return Buffer.from(text);
    },
    reset: (wall: string, _start: string, reason: ResetReason, position: StreamPosition) =>
      encodeReset(position.id(), reason, wall),
  };
}

const multiWallJson = multiWall(jsonEventBody);
const multiWallHtml = multiWall(htmlEventBody);
