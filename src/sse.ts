/**
 * The only code that produces `text/event-stream` bytes (WHATWG HTML,
 * "Server-sent events", §9.2.5 "Parsing an event stream"): field encoding,
 * the frames of wall events, the response head of a stream, and the memo
 * that lets a replay storm encode a range once.
 *
 * Field values that end a line would let one event forge another, so `id:`
 * and `event:` refuse CR, LF and NUL outright, and `data:` splits on every
 * line ending into several `data:` lines, which the client joins with LF.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Http2ServerResponse } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { ReadResult, ResetReason, WallEvent } from './store/store.js';
import type { WallCursors } from './wall-cursors.js';

export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  // nginx: pass every event through at once instead of filling a buffer.
  'X-Accel-Buffering': 'no',
} as const;

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

/**
 * Encoded frames by event. A store hands out the same event objects while
 * they stay in its memory, so a replay storm encodes each message once, and
 * the frame is collected with its event.
 */
const frames = new WeakMap<WallEvent, Buffer>();

/** The frame of one wall event: `message` events carry no `event:` field. */
export function encodeWallEvent(wallEvent: WallEvent): Buffer {
  let frame = frames.get(wallEvent);
  if (frame === undefined) {
    const text =
      wallEvent.type === 'message'
        ? encodeEvent({ id: wallEvent.cursor, data: JSON.stringify(wallEvent.message) })
        : encodeEvent({ event: 'delete', id: wallEvent.cursor, data: JSON.stringify({ id: wallEvent.id }) });
    frame = Buffer.from(text);
    frames.set(wallEvent, frame);
  }
  return frame;
}

/** The frames of several events as one Buffer: one write for all of them. */
export function joinFrames(events: readonly WallEvent[]): Buffer {
  if (events.length === 1) return encodeWallEvent(events[0] as WallEvent);
  return Buffer.concat(events.map(encodeWallEvent));
}

/** `event: reset`: the cursor asked for could not be resumed; resume from `start` instead. */
function encodeReset(start: string, reason: ResetReason): Buffer {
  return Buffer.from(encodeEvent({ event: 'reset', id: start, data: JSON.stringify({ reason }) }));
}

/**
 * An id-only event: gives a fresh stream that replayed nothing the head
 * cursor to resume from (§9.2.6: `id` without `data` sets the last event ID
 * without dispatching).
 */
function encodeHeadId(head: string): Buffer {
  return Buffer.from(encodeEvent({ id: head }));
}

/** A response an event stream can be sent on: HTTP/1.1 (plain or TLS), or an HTTP/2 stream. */
export type StreamResponse = ServerResponse | Http2ServerResponse;

/**
 * Sends the head of an event stream at once, with `retry:` first, and
 * returns where the events then go. `headers` are the ones set by
 * middleware on the way (CORS, say): they reach the stream too.
 *
 * On HTTP/1.1 that is the socket itself. The response has no chunked
 * framing: it is close-delimited, as HTTP/1.1 allows for a body that ends
 * with the connection, so the body bytes on the socket are exactly the event
 * stream, and the hub can write each batch to the socket in one syscall.
 * Undefined when the response has no socket of its own (it is queued behind
 * another on a pipelined connection).
 *
 * On HTTP/2 it is the response's own stream (one DATA frame per write; the
 * connection carries the other streams too), never the connection's socket.
 */
export function writeStreamHead(res: StreamResponse, retryMs: number, headers?: Headers): Duplex | undefined {
  if (res instanceof Http2ServerResponse) return writeHttp2StreamHead(res, retryMs, headers);
  const socket = res.socket;
  if (socket === null || socket.destroyed) return undefined;
  res.useChunkedEncodingByDefault = false;
  // One writeHead with a flat list, and no setHeader before it: the response
  // then keeps no header map of its own for the life of the stream.
  res.writeHead(200, headList(headers, NOTHING));
  socket.cork();
  res.flushHeaders();
  socket.write(encodeRetry(retryMs));
  socket.uncork();
  return socket;
}

/**
 * The stream's head as [name, value, …]: the middleware's headers (each
 * Set-Cookie its own, and without `skip`), then the stream's own, which take
 * the place of any set under the same name.
 */
function headList(headers: Headers | undefined, skip: ReadonlySet<string>): string[] {
  const list: string[] = [];
  if (headers !== undefined) {
    for (const [name, value] of headers) {
      if (name !== 'set-cookie' && !SSE_HEADER_NAMES.has(name) && !skip.has(name)) list.push(name, value);
    }
    for (const cookie of headers.getSetCookie()) list.push('Set-Cookie', cookie);
  }
  list.push(...SSE_HEAD_LIST);
  return list;
}

const SSE_HEAD_LIST: readonly string[] = Object.entries(SSE_HEADERS).flat();
const SSE_HEADER_NAMES: ReadonlySet<string> = new Set(Object.keys(SSE_HEADERS).map((name) => name.toLowerCase()));
const NOTHING: ReadonlySet<string> = new Set();
/** Connection-specific headers have no place in HTTP/2 (RFC 9113, §8.2.2). */
const HTTP1_ONLY: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade']);

/** A head list as the HTTP/2 response takes it: one name each, Set-Cookie as a list. */
function headObject(list: readonly string[]): OutgoingHttpHeaders {
  const head: OutgoingHttpHeaders = {};
  for (let i = 0; i < list.length; i += 2) {
    const name = (list[i] as string).toLowerCase();
    const value = list[i + 1] as string;
    if (name === 'set-cookie') head[name] = [...((head[name] as string[] | undefined) ?? []), value];
    else head[name] = value;
  }
  return head;
}

function writeHttp2StreamHead(res: Http2ServerResponse, retryMs: number, headers?: Headers): Duplex | undefined {
  const stream = res.stream;
  if (stream.destroyed || stream.closed) return undefined;
  res.writeHead(200, headObject(headList(headers, HTTP1_ONLY)));
  // The first write through the response sends its headers with it; the rest go to the stream.
  res.write(encodeRetry(retryMs));
  return stream;
}

/**
 * A reconnect storm asks for the same range thousands of times: the last
 * replay's bytes are kept and reused while the range is the same (same
 * first and last event objects, same count: the store's events between them
 * are then the same).
 */
export class ReplayMemo {
  #last: { first: WallEvent | undefined; last: WallEvent | undefined; count: number; bytes: Buffer } | undefined;

  /** The bytes of one replay page: its reset or head id first, when there is one, then its events. */
  encode(page: ReadResult, fresh: boolean): Buffer | undefined {
    let lead: Buffer | undefined;
    if (page.reset !== undefined) lead = encodeReset(page.start, page.reset);
    else if (fresh && page.events.length === 0) lead = encodeHeadId(page.head);
    const events = page.events.length > 0 ? this.#join(page.events) : undefined;
    return lead !== undefined && events !== undefined ? Buffer.concat([lead, events]) : (lead ?? events);
  }

  #join(events: WallEvent[]): Buffer {
    const first = events[0];
    const last = events.at(-1);
    const memo = this.#last;
    if (memo !== undefined && memo.first === first && memo.last === last && memo.count === events.length) {
      return memo.bytes;
    }
    const bytes = joinFrames(events);
    this.#last = { first, last, count: events.length, bytes };
    return bytes;
  }
}

/** The data of a stream's events: the message JSON (the contract's default), or its HTML fragment (htmx). */
export type StreamDataFormat = 'json' | 'html';

/** The htmx frames of wall events: the message's fragment as data; a delete as an out-of-band delete. */
const htmlFrames = new WeakMap<WallEvent, Buffer>();

/** A wall event's data in `format`, with the event name it goes by. */
function eventBody(wallEvent: WallEvent, format: StreamDataFormat): { event?: string; data: string } {
  if (wallEvent.type === 'message') {
    return { data: format === 'json' ? JSON.stringify(wallEvent.message) : wallEvent.message.html };
  }
  const id = wallEvent.id;
  return {
    event: 'delete',
    data:
      format === 'json'
        ? JSON.stringify({ id })
        : `<div id="m${id.replace(/[^A-Za-z0-9_-]/g, '')}" hx-swap-oob="delete"></div>`,
  };
}

/** The htmx frame of one wall event, cached like the JSON one. */
function encodeWallEventHtml(wallEvent: WallEvent): Buffer {
  let frame = htmlFrames.get(wallEvent);
  if (frame === undefined) {
    frame = Buffer.from(encodeEvent({ ...eventBody(wallEvent, 'html'), id: wallEvent.cursor }));
    htmlFrames.set(wallEvent, frame);
  }
  return frame;
}

/**
 * How a stream other than the plain one (one wall, JSON data, frames shared
 * by every stream of the wall) encodes what it sends, and where it stands.
 */
export interface StreamFormat {
  /** The bytes of `events` of `wall`, moving the stream's position past them. */
  encode(wall: string, events: readonly WallEvent[]): Buffer;
  /** `event: reset` for `wall`, whose position becomes `start`. */
  reset(wall: string, start: string, reason: ResetReason): Buffer;
  /** Moves `wall`'s position to `cursor` without an event (a fresh wall's head). */
  moveTo(wall: string, cursor: string): void;
  /** An id-only event with the stream's whole position, when it moved without one; else nothing. */
  position(): Buffer | undefined;
}

/** One wall's stream with the messages' HTML as data (for htmx): ids are the wall's cursors. */
export class HtmlFormat implements StreamFormat {
  #written = '';
  #position = '';

  encode(_wall: string, events: readonly WallEvent[]): Buffer {
    const last = events.at(-1);
    if (last !== undefined) this.#written = this.#position = last.cursor;
    return events.length === 1
      ? encodeWallEventHtml(events[0] as WallEvent)
      : Buffer.concat(events.map(encodeWallEventHtml));
  }

  reset(wall: string, start: string, reason: ResetReason): Buffer {
    this.#written = this.#position = start;
    return Buffer.from(encodeEvent({ event: 'reset', id: start, data: JSON.stringify({ reason, wall }) }));
  }

  moveTo(_wall: string, cursor: string): void {
    this.#position = cursor;
  }

  position(): Buffer | undefined {
    if (this.#position === this.#written) return undefined;
    this.#written = this.#position;
    return encodeHeadId(this.#position);
  }
}

/**
 * A stream that follows several walls. Its position is the cursor it has
 * reached in each, and every event's `id:` is that whole position (see
 * WallCursors), so the client's Last-Event-ID resumes every wall exactly.
 * The ids differ per stream, so its frames are its own.
 */
export class MultiWallFormat implements StreamFormat {
  #written = '';

  constructor(
    private readonly cursors: WallCursors,
    private readonly data: StreamDataFormat,
  ) {}

  encode(wall: string, events: readonly WallEvent[]): Buffer {
    let text = '';
    for (const wallEvent of events) {
      this.cursors.set(wall, wallEvent.cursor);
      text += encodeEvent({ ...eventBody(wallEvent, this.data), id: (this.#written = this.cursors.id()) });
    }
    return Buffer.from(text);
  }

  reset(wall: string, start: string, reason: ResetReason): Buffer {
    this.cursors.set(wall, start);
    this.#written = this.cursors.id();
    return Buffer.from(encodeEvent({ event: 'reset', id: this.#written, data: JSON.stringify({ reason, wall }) }));
  }

  moveTo(wall: string, cursor: string): void {
    this.cursors.set(wall, cursor);
  }

  position(): Buffer | undefined {
    const id = this.cursors.id();
    if (id === this.#written) return undefined;
    this.#written = id;
    return encodeHeadId(id);
  }
}
