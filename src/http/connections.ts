/**
 * The server's connections beyond what Node's HTTP server does for them:
 * what shutdown closes (HTTP/2 sessions and sockets, which Node's HTTP/2
 * server does not track), and HTTP/1.1 pipelining, bounded.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse, ServerHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';

/**
 * Requests a client may queue behind an unfinished response on one
 * connection (HTTP/1.1 pipelining) before the connection is closed.
 */
const MAX_QUEUED_REQUESTS = 8;

/**
 * What shutdown closes beyond the streams. Plain HTTP: Node's own list of
 * connections. TLS: Node's HTTP/2 server has no `closeAllConnections`, and
 * an idle HTTP/2 session would hold `server.close()` until the deadline, so
 * its sessions are told to go away (GOAWAY) when shutdown begins, and its
 * connections are kept here (one shared listener each, no closure) to be
 * cut at the deadline.
 */
export function trackConnections(server: Server, tls: boolean): { closeSessions(): void; cutAll(): void } {
  if (!tls) return { closeSessions: () => {}, cutAll: () => server.closeAllConnections() };
  const sockets = new Set<Socket>();
  const sessions = new Set<ServerHttp2Session>();
  function forgetSocket(this: Socket) {
    sockets.delete(this);
  }
  function forgetSession(this: ServerHttp2Session) {
    sessions.delete(this);
  }
  server.on('connection', (socket: Socket) => sockets.add(socket.on('close', forgetSocket)));
  server.on('session', (session: ServerHttp2Session) => sessions.add(session.on('close', forgetSession)));
  return {
    closeSessions: () => {
      for (const session of sessions) session.close();
    },
    cutAll: () => {
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
    },
  };
}

/**
 * HTTP/1.1 pipelining, bounded. Node parses every request a client sends on
 * a connection at once, runs each, and buffers each response until the ones
 * before it end: behind an open event stream, never. So here a request
 * queued behind an unfinished response waits, not run, until the response
 * before it has ended and the connection is its own (the response's
 * `socket` event). More than MAX_QUEUED_REQUESTS waiting on one connection
 * close it.
 */
export type Listener = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
) => void | Promise<void>;

export function oneRequestAtATime(listener: Listener): Listener {
  const waiting = new WeakMap<Socket, number>();
  return (req, res) => {
    // An HTTP/2 stream always has its connection; only a queued HTTP/1.1 response has none yet.
    if (res.socket !== null) return listener(req, res);
    const connection = req.socket as Socket;
    const queued = (waiting.get(connection) ?? 0) + 1;
    if (queued > MAX_QUEUED_REQUESTS) {
      connection.destroy();
      return;
    }
    waiting.set(connection, queued);
    res.once('socket', () => {
      waiting.set(connection, (waiting.get(connection) ?? 1) - 1);
      listener(req, res);
    });
  };
}
