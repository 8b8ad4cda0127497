/**
 * Where a stream's bytes go: its socket on HTTP/1.1 (the response is
 * close-delimited, so the socket carries exactly the event stream; see
 * http/stream-head.ts) or its HTTP/2 stream, with the bound on what may
 * queue there and the time of the last write, for heartbeats.
 *
 * Why the socket and not `ServerResponse.write`: `res.write` would cork the
 * socket and schedule an uncork per client per event; a plain
 * `socket.write` is one syscall.
 */
import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import type { Duplex } from 'node:stream';

/** A response an event stream can be sent on: HTTP/1.1 (plain or TLS), or an HTTP/2 stream. */
export type StreamResponse = ServerResponse | Http2ServerResponse;

export class StreamOutput {
  lastWriteMs = Date.now();

  constructor(
    /** The response, to end it gracefully. */
    readonly res: StreamResponse,
    readonly socket: Duplex,
    /** Bytes queued for this client before it is evicted. */
    readonly slowClientBytes: number,
  ) {}

  /** Writes `bytes`; false when, with `bounded`, the client is now past the bound. */
  write(bytes: Buffer, nowMs: number, bounded: boolean): boolean {
    const socket = this.socket;
    if (socket.destroyed) return true;
    socket.write(bytes);
    this.lastWriteMs = nowMs;
    // Bounded per client: a reader that stopped would otherwise grow this
    // process without limit (a socket write never refuses).
    return !bounded || socket.writableLength <= this.slowClientBytes;
  }

  /** Resolves once the client has taken what was written down to the bound, or is gone. */
  async drained(): Promise<void> {
    const socket = this.socket;
    while (!socket.destroyed && socket.writableLength > this.slowClientBytes) {
      await new Promise<void>((resolve) => {
        const done = () => {
          socket.off('drain', done).off('close', done);
          resolve();
        };
        socket.once('drain', done).once('close', done);
      });
    }
  }

  /** Graceful end: `goodbye` (a short `retry:`, say), then the end of the response. */
  end(goodbye: string): void {
    if (this.socket.destroyed || this.res.writableEnded) return;
    this.socket.write(goodbye);
    this.res.end();
  }

  /** Cuts the connection now (the client reconnects and replays from its position). */
  destroy(): void {
    this.socket.destroy();
  }
}
