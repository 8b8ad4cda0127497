import type { WallEvent } from '../store/store.js';
import type { StreamFormat } from './stream-format.js';
import type { StreamPosition } from './stream-position.js';

/**
 * A reconnect storm asks for the same range thousands of times: the last
 * replay's bytes are kept and reused while the range and the format are the
 * same (same first and last event objects, same count: the store's events
 * between them are then the same). Only formats whose frames every stream
 * shares (`shared`) are kept; one memo per process serves every stream.
 */
export class ReplayMemo {
  #last: { format: StreamFormat; first: WallEvent; last: WallEvent; count: number; bytes: Buffer } | undefined;

  /** The bytes of `events` (at least one) of `wall` in `format`, sent from `position`. */
  encode(format: StreamFormat, wall: string, events: readonly WallEvent[], position: StreamPosition): Buffer {
    if (!format.shared) return format.encode(wall, events, position);
    const first = events[0] as WallEvent;
    const last = events.at(-1) as WallEvent;
    const memo = this.#last;
    if (
      memo !== undefined &&
      memo.format === format &&
      memo.first === first &&
      memo.last === last &&
      memo.count === events.length
    ) {
      return memo.bytes;
    }
    const bytes = format.encode(wall, events, position);
    this.#last = { format, first, last, count: events.length, bytes };
    return bytes;
  }
}
