/**
 * The only code that writes `text/event-stream` fields (WHATWG HTML,
 * "Server-sent events", §9.2.5 "Parsing an event stream"): field encoding,
 * and the frames of wall events as every plain stream shares them.
 *
 * Field values that end a line would let one event forge another, so `id:`
 * and `event:` refuse CR, LF and NUL outright, and `data:` splits on every
 * line ending into several `data:` lines, which the client joins with LF.
 */
import type { ResetReason, WallEvent } from '../store/store.js';

export interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
}

const LINE_BREAK_OR_NUL = /[\r\n\0]/;

function field(name: string, value: string): string {
  if (LINE_BREAK_OR_NUL.test(value)) {
    throw new Error(`SSE ${name} must not contain CR, LF or NUL`);
  }
  return `${name}: ${value}\n`;
}

export function encodeEvent(event: SseEvent): string {
  let text = '';
  if (event.event !== undefined) text += field('event', event.event);
  if (event.id !== undefined) text += field('id', event.id);
  if (event.data !== undefined) {
    for (const line of event.data.split(/\r\n|\r|\n/)) text += `data: ${line}\n`;
  }
  return `${text}\n`;
}

/** A comment line; the client ignores it, proxies see traffic. */
export function encodeComment(text: string): string {
  return `: ${text.replace(/[\r\n\0]/g, ' ')}\n\n`;
}

/** The reconnection delay a client should wait, in whole milliseconds. */
export function encodeRetry(ms: number): string {
  return `retry: ${Math.max(0, Math.round(ms))}\n\n`;
}

export const PING = Buffer.from(encodeComment('ping'));

/** A wall event's `event:` and `data:` in one format; its `id:` is the stream's to give. */
export type EventBody = (wallEvent: WallEvent) => { event?: string; data: string };

/** The JSON body: a message's JSON (no `event:` field), or a delete's id. */
export const jsonEventBody: EventBody = (wallEvent) =>
  wallEvent.type === 'message'
    ? { data: JSON.stringify(wallEvent.message) }
    : { event: 'delete', data: JSON.stringify({ id: wallEvent.id }) };

/**
 * The frame of one wall event in `body`'s format with the wall's cursor as
 * its id, encoded once per event. A store hands out the same event objects
 * while they stay in its memory, so a replay storm encodes each message
 * once, and the frame is collected with its event.
 */
export function cachedFrames(body: EventBody): (wallEvent: WallEvent) => Buffer {
  const frames = new WeakMap<WallEvent, Buffer>();
  return (wallEvent) => {
    let frame = frames.get(wallEvent);
    if (frame === undefined) {
      frame = Buffer.from(encodeEvent({ ...body(wallEvent), id: wallEvent.cursor }));
      frames.set(wallEvent, frame);
    }
    return frame;
  };
}

/** The frame of one wall event as every plain stream shares it. */
export const encodeWallEvent = cachedFrames(jsonEventBody);

/** The frames of several events as one Buffer: one write for all of them. */
export function joinFrames(events: readonly WallEvent[], encode = encodeWallEvent): Buffer {
  if (events.length === 1) return encode(events[0] as WallEvent);
  return Buffer.concat(events.map(encode));
}

/**
 * `event: reset`: the cursor asked for could not be resumed; `id` is where
 * the stream resumes from instead. `wall` is named in streams whose format
 * says which wall (several walls, htmx); the plain stream has only one.
 */
export function encodeReset(id: string, reason: ResetReason, wall?: string): Buffer {
  const data = JSON.stringify(wall === undefined ? { reason } : { reason, wall });
  return Buffer.from(encodeEvent({ event: 'reset', id, data }));
}

/**
 * An id-only event: gives a stream whose position moved without an event
 * (a fresh wall with nothing to replay) the id to resume from (§9.2.6: `id`
 * without `data` sets the last event ID without dispatching).
 */
export function encodeIdOnly(id: string): Buffer {
  return Buffer.from(encodeEvent({ id }));
}
