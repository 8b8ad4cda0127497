/**
 * An HTTP/1.1 connection that carries an event stream needs no HTTP parser
 * once the stream's head is sent: the response is close-delimited, so no
 * other request will ever be answered on it. Node keeps the parser anyway,
 * for keep-alive, and a parser holds about 2.5 KB of memory per connection
 * (its native header slots, its JS state, the listeners bound to it): a
 * quarter of what an idle stream costs.
 *
 * Node has a public way to take a connection from its HTTP server (the
 * `upgrade` event) but none for a request that does not ask for an
 * upgrade, so this does what Node's own upgrade path does, with Node's
 * internals:
 *
 * - it removes the two socket listeners that run the parser (`data` and
 *   `end`, each bound to it), found by their names;
 * - it frees the parser with `_http_common`'s `freeParser`, which detaches
 *   it from the socket and gives it back to Node's pool;
 * - from then on, anything the client sends on the connection could only be
 *   a request pipelined behind a stream, never answered: the connection is
 *   cut instead of parsing it (a stray CRLF aside). A client that
 *   half-closes is cut too.
 *
 * The socket's other listeners (close, drain, timeout, error) and the
 * response's own do not use the parser they were bound with, so the
 * stream, its send timeout, its `close` and a graceful `end()` work as
 * before. Node's connection list no longer holds the connection (the
 * parser was its entry), so `closeAllConnections()` does not cut it: the
 * hub does (`disconnectAll`).
 *
 * Everything is checked before anything is changed: on a Node whose
 * internals differ, `PARSER_RELEASE` says why and streams keep their parser
 * (more memory, nothing else). test/unit/stream-connection.test.ts fails
 * loudly when that happens.
 */
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

type FreeParser = (parser: unknown, req: IncomingMessage | null, socket: Socket) => void;

/** Node's socket listeners that run the parser, by the names `bind` gives them. */
const PARSER_LISTENERS = { data: 'bound socketOnData', end: 'bound socketOnEnd' } as const;

function loadFreeParser(): FreeParser | string {
  try {
    const common = createRequire(import.meta.url)('_http_common') as { freeParser?: unknown };
    return typeof common.freeParser === 'function'
      ? (common.freeParser as FreeParser)
      : '_http_common has no freeParser';
  } catch (error) {
    return `_http_common cannot be loaded (${String(error)})`;
  }
}

const freeParser = loadFreeParser();

/** Whether this Node lets streams give their parser back, and if not, why (found at start, or at the first stream). */
export const PARSER_RELEASE: { supported: boolean; reason?: string } =
  typeof freeParser === 'function' ? { supported: true } : { supported: false, reason: freeParser };

let onUnsupported: ((reason: string) => void) | undefined;

/** Called once, when a stream finds Node's socket listeners other than expected (the server logs it). */
export function whenParserReleaseUnsupported(listener: (reason: string) => void): void {
  onUnsupported = listener;
}

function unsupported(reason: string): void {
  if (!PARSER_RELEASE.supported) return;
  PARSER_RELEASE.supported = false;
  PARSER_RELEASE.reason = reason;
  onUnsupported?.(reason);
}

/**
 * Gives back the parser of a stream's connection, on the next turn (never
 * while the parser is running: the request may have come out of it on this
 * very call stack). Returns at once; does nothing where it cannot be done
 * safely.
 */
export function releaseParserSoon(socket: Socket, req: IncomingMessage): void {
  if (typeof freeParser !== 'function' || !PARSER_RELEASE.supported) return;
  const parser = parserOf(socket);
  if (parser === undefined || parser === null) return;
  setImmediate(release, socket, req, parser);
}

/** Whether the connection's parser was given back (for tests). */
export function parserReleased(socket: Socket): boolean {
  return parserOf(socket) === null && socket.listeners('data').includes(cut);
}

function release(socket: Socket, req: IncomingMessage, parser: unknown): void {
  if (typeof freeParser !== 'function' || socket.destroyed) return;
  if (parserOf(socket) !== parser) return;
  const data = nodeListener(socket, 'data');
  const end = nodeListener(socket, 'end');
  // A socket that is not exactly as Node's HTTP server leaves it keeps its parser, and so do all after it.
  if (data === undefined || end === undefined) {
    unsupported(`a stream's socket has not exactly one '${PARSER_LISTENERS.data}' and one '${PARSER_LISTENERS.end}'`);
    return;
  }
  socket.removeListener('data', data);
  socket.removeListener('end', end);
  freeParser(parser, req, socket);
  socket.on('data', cut);
  socket.on('end', cut);
}

/** The parser Node's HTTP server keeps on a connection's socket (`null` once freed). */
function parserOf(socket: Socket): unknown {
  return (socket as Socket & { parser?: unknown }).parser;
}

/** Node's one listener of `event` that runs the parser, or undefined when there is not exactly one. */
function nodeListener(
  socket: Socket,
  event: keyof typeof PARSER_LISTENERS,
): ((...args: unknown[]) => void) | undefined {
  const found = socket.listeners(event).filter((listener) => listener.name === PARSER_LISTENERS[event]);
  return found.length === 1 ? (found[0] as (...args: unknown[]) => void) : undefined;
}

/**
 * Bytes (or a half-close) from a stream's client: nothing it sends after the
 * stream can be answered. Empty lines are the exception: RFC 9112 §2.2 lets
 * a client send a CRLF after a request, and a server should ignore it.
 */
function cut(this: Socket, chunk?: Buffer): void {
  if (chunk !== undefined && chunk.length <= MAX_IGNORED_CRLF && EMPTY_LINES.test(chunk.toString('latin1'))) return;
  this.destroy();
}

const EMPTY_LINES = /^[\r\n]+$/;
const MAX_IGNORED_CRLF = 4;
