import type { ResetReason, WallEvent } from '../store/store.js';
import { encodeEvent, encodeReset } from './frames.js';
import { htmlEventBody } from './html-format.js';
import type { StreamDataFormat, StreamFormat } from './stream-format.js';
import type { StreamPosition } from './stream-position.js';

function jsonEventBody(wallEvent: WallEvent): { event?: string; data: string } {
  if (wallEvent.type === 'message') return { data: JSON.stringify(wallEvent.message) };
  return { event: 'delete', data: JSON.stringify({ id: wallEvent.id }) };
}

/**
 * A stream that follows several walls. Every event's `id:` is the stream's
 * whole position with the event's wall moved to it (StreamPosition), so the
 * client's Last-Event-ID resumes every wall exactly. The ids differ per
 * stream, so its frames are its own.
 */
export function multiWallFormat(data: StreamDataFormat): StreamFormat {
  return data === 'json' ? multiWallJson : multiWallHtml;
}

function multiWall(body: (wallEvent: WallEvent) => { event?: string; data: string }): StreamFormat {
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
