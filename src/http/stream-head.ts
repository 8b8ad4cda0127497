/**
 * The head of an event stream's response, on HTTP/1.1 and on HTTP/2, sent
 * at once with `retry:` first; it returns where the stream's bytes then go
 * (stream/stream-output.ts).
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { Http2ServerResponse } from 'node:http2';
import type { Duplex } from 'node:stream';
import { encodeRetry } from '../stream/frames.js';
import type { StreamResponse } from '../stream/stream-output.js';

export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  // nginx: pass every event through at once instead of filling a buffer.
  'X-Accel-Buffering': 'no',
} as const;

/**
 * Sends the head of an event stream at once, with `retry:` first, and
 * returns where the events then go. `headers` are the ones set by
 * middleware on the way (CORS, say): they reach the stream too.
 *
 * On HTTP/1.1 that is the socket itself. The response has no chunked
 * framing: it is close-delimited, as HTTP/1.1 allows for a body that ends
 * with the connection (RFC 9112 §6.3), so the body bytes on the socket are
 * exactly the event stream, and the hub can write each batch to the socket
 * in one syscall. Undefined when the response has no socket of its own (it
 * is queued behind another on a pipelined connection).
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

function writeHttp2StreamHead(res: Http2ServerResponse, retryMs: number, headers?: Headers): Duplex | undefined {
  const stream = res.stream;
  if (stream.destroyed || stream.closed) return undefined;
  res.writeHead(200, headObject(headList(headers, HTTP1_ONLY)));
  // The first write through the response sends its headers with it; the rest go to the stream.
  res.write(encodeRetry(retryMs));
  return stream;
}

/**
 * The stream's head as [name, value, …]: the middleware's headers (each
 * Set-Cookie its own, and without `skip`), then the stream's own, which take
 * the place of any set under the same name.
 */
export function headList(headers: Headers | undefined, skip: ReadonlySet<string>): string[] {
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
export const NOTHING: ReadonlySet<string> = new Set();
/** Connection-specific headers have no place in HTTP/2 (RFC 9113, §8.2.2). */
export const HTTP1_ONLY: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade']);

/** A head list as the HTTP/2 response takes it: one name each, Set-Cookie as a list. */
export function headObject(list: readonly string[]): OutgoingHttpHeaders {
  const head: OutgoingHttpHeaders = {};
  for (let i = 0; i < list.length; i += 2) {
    const name = (list[i] as string).toLowerCase();
    const value = list[i + 1] as string;
    if (name === 'set-cookie') head[name] = [...((head[name] as string[] | undefined) ?? []), value];
    else head[name] = value;
  }
  return head;
}
