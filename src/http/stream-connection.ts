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
 * internals differ, `ParserRelease.supported` turns false with the reason
 * (logged once by the server) and streams keep their parser (more memory,
 * nothing else). test/e2e/stream-connection.test.ts fails loudly when that
 * happens. `WALLCAST_RELEASE_PARSER=off` turns it off.
 *
 * The state is per server (one `ParserRelease` each), so two servers in one
 * process never replace each other's listener or state.
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

/** Node's `freeParser`, looked up once: the same function for every server of the process. */
const freeParser = loadFreeParser();

/** Whether this Node has what the release needs at all, and if not, why. */
export function parserReleaseAvailable(): { available: boolean; reason?: string } {
  return typeof freeParser === 'function' ? { available: true } : { available: false, reason: freeParser };
}

/** One server's parser release: whether it is on, and if it stopped, why. */
export class ParserRelease {
  #supported: boolean;
  #reason: string | undefined;

  constructor(
    enabled: boolean,
    /** Called once, when streams keep their parser from here on (the server logs it). */
    private readonly onUnsupported: (reason: string) => void = () => {},
  ) {
    this.#supported = enabled && typeof freeParser === 'function';
    this.#reason = !enabled
      ? 'turned off (WALLCAST_RELEASE_PARSER=off)'
      : typeof freeParser === 'function'
        ? undefined
        : freeParser;
  }

  get supported(): boolean {
    return this.#supported;
  }

  /** Why streams keep their parser; undefined while they do not. */
  get reason(): string | undefined {
    return this.#reason;
  }

  /**
   * Gives back the parser of a stream's connection, on the next turn (never
   * while the parser is running: the request may have come out of it on this
   * very call stack). Returns at once; does nothing where it cannot be done
   * safely.
   */
  releaseSoon(socket: Socket, req: IncomingMessage): void {
    if (!this.#supported) return;
    const parser = parserOf(socket);
    if (parser === undefined || parser === null) return;
    setImmediate(() => this.#release(socket, req, parser));
  }

  #release(socket: Socket, req: IncomingMessage, parser: unknown): void {
    if (typeof freeParser !== 'function' || !this.#supported || socket.destroyed) return;
    if (parserOf(socket) !== parser) return;
    const data = nodeListener(socket, 'data');
    const end = nodeListener(socket, 'end');
    // A socket that is not exactly as Node's HTTP server leaves it keeps its parser, and so do all after it.
    if (data === undefined || end === undefined) {
      this.#stop(`a stream's socket has not exactly one '${PARSER_LISTENERS.data}' and one '${PARSER_LISTENERS.end}'`);
      return;
    }
    socket.removeListener('data', data);
    socket.removeListener('end', end);
    freeParser(parser, req, socket);
    socket.on('data', cut);
    socket.on('end', cut);
  }

  #stop(reason: string): void {
    if (!this.#supported) return;
    this.#supported = false;
    this.#reason = reason;
    this.onUnsupported(reason);
  }
}

/** Whether the connection's parser was given back (for tests). */
export function parserReleased(socket: Socket): boolean {
  return parserOf(socket) === null && socket.listeners('data').includes(cut);
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
