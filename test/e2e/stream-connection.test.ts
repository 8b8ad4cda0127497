/**
 * A stream's connection gives its HTTP parser back to Node once the head is
 * sent (src/http/stream-connection.ts), with Node's internals. This suite
 * fails loudly when a Node version changes them, and shows that the stream,
 * its end, a client that sends more, the server's other connections and its
 * shutdown all still behave.
 */
import type { Server } from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parserReleaseAvailable, parserReleased } from '../../src/http/stream-connection.js';
import type { RunningServer } from '../../src/server.js';
import { until } from '../support/deadlines.js';
import { getJson, postJson } from '../support/http.js';
import { startTestServer } from '../support/server.js';
import { RawSse } from '../support/sse-reader.js';

/** The server side of every connection, as the server accepts them. */
function serverSockets(server: Server | RunningServer['server']): net.Socket[] {
  const sockets: net.Socket[] = [];
  server.on('connection', (socket: net.Socket) => sockets.push(socket));
  return sockets;
}

/** The server's side of a raw client's connection. */
function serverSide(sockets: net.Socket[], client: { socket: net.Socket }): net.Socket | undefined {
  return sockets.find((socket) => socket.remotePort === client.socket.localPort);
}

/** Whether the server's side of `client` gave its parser back. */
function released(sockets: net.Socket[], client: { socket: net.Socket }): boolean {
  const socket = serverSide(sockets, client);
  return socket !== undefined && parserReleased(socket);
}

/** A raw client: sends `text`, keeps what comes back. */
function rawClient(port: number, text: string) {
  const client = { socket: net.connect(port, '127.0.0.1'), text: '', closed: false };
  client.socket.setEncoding('utf8');
  client.socket.on('data', (chunk: string) => {
    client.text += chunk;
  });
  client.socket.on('close', () => {
    client.closed = true;
  });
  client.socket.on('error', () => {});
  client.socket.write(text);
  return client;
}

const streamRequest = (wall: string) =>
  `GET /api/walls/${wall}/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`;

describe("a stream's connection without its HTTP parser", () => {
  let running: RunningServer | undefined;
  afterEach(async () => {
    running?.server.closeAllConnections();
    await running?.close();
    running = undefined;
  });

  it('is supported by this Node (if not, its HTTP internals changed: see src/http/stream-connection.ts)', () => {
    const release = parserReleaseAvailable();
    expect(release, `streams would keep their parser: ${release.reason}`).toEqual({ available: true });
  });

  it('gives the parser back and still streams, then is dropped when the client leaves', async () => {
    running = await startTestServer();
    const sockets = serverSockets(running.server);
    const sse = new RawSse(`${running.url}/api/walls/conn/events`);
    await sse.waitFor('head and retry', (s) => s.frames.some((f) => f.retry !== undefined));
    await until('the parser given back', 2000, () => sockets.length === 1 && parserReleased(sockets[0] as net.Socket));
    await postJson(running.url, '/api/walls/conn/messages', { body: 'after the release' });
    await sse.waitForMessages(1, 'the post, live');
    expect(running.deps.hub.size).toBe(1);
    sse.close();
    await until('the stream dropped on close', 2000, () => running?.deps.hub.size === 0);
  });

  it('keeps the release per server: one with WALLCAST_RELEASE_PARSER=off keeps its parsers, another in the same process still gives them back', async () => {
    const kept = await startTestServer({ WALLCAST_RELEASE_PARSER: 'off' });
    running = await startTestServer();
    try {
      const keptSockets = serverSockets(kept.server);
      const releasedSockets = serverSockets(running.server);
      const onKept = new RawSse(`${kept.url}/api/walls/kept/events`);
      const onReleased = new RawSse(`${running.url}/api/walls/released/events`);
      for (const sse of [onKept, onReleased]) {
        await sse.waitFor('head and retry', (s) => s.frames.some((f) => f.retry !== undefined));
      }
      await until('the parser given back', 2000, () => releasedSockets.some((socket) => parserReleased(socket)));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(keptSockets.some((socket) => parserReleased(socket))).toBe(false);
      expect(kept.deps.parserRelease.supported).toBe(false);
      expect(running.deps.parserRelease.supported).toBe(true);
      await postJson(kept.url, '/api/walls/kept/messages', { body: 'still streams' });
      await onKept.waitForMessages(1, 'the post, live, on the server that kept its parser');
      onKept.close();
      onReleased.close();
    } finally {
      kept.server.closeAllConnections();
      await kept.close();
    }
  });

  it('leaves the parsers of other connections (reused from Node’s pool) parsing right', async () => {
    running = await startTestServer();
    const streams = Array.from({ length: 20 }, (_, i) => new RawSse(`${running?.url}/api/walls/pool${i}/events`));
    for (const s of streams) await s.waitFor('open', (f) => f.frames.length >= 1);
    // Closed streams give their connections back; new connections take parsers from the pool.
    for (const s of streams) s.close();
    await until('streams gone', 2000, () => running?.deps.hub.size === 0);
    const port = running.port;
    const keepAlive = rawClient(
      port,
      'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\nGET /api/walls/pool0/messages HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    await until(
      'three answers on one connection',
      3000,
      () => (keepAlive.text.match(/HTTP\/1\.1 200/g) ?? []).length === 3,
    );
    expect(keepAlive.text).toContain('"messages"');
    keepAlive.socket.destroy();
    expect((await getJson(running.url, '/healthz')).status).toBe(200);
  });

  it('cuts a client that sends anything after its stream began, or half-closes', async () => {
    running = await startTestServer();
    const sockets = serverSockets(running.server);
    const sender = rawClient(running.port, streamRequest('cut'));
    await until('stream open', 2000, () => sender.text.includes('retry:'));
    await until('released', 2000, () => released(sockets, sender));
    sender.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await until('cut after sending more', 2000, () => sender.closed);
    expect(sender.text).not.toContain('"ok"');

    // A stray CRLF after a request is to be ignored (RFC 9112, §2.2), not cut.
    const crlf = rawClient(running.port, streamRequest('cut'));
    await until('stream open', 2000, () => crlf.text.includes('retry:'));
    await until('released', 2000, () => released(sockets, crlf));
    crlf.socket.write('\r\n');
    await postJson(running.url, '/api/walls/cut/messages', { body: 'still here' });
    await until('live after a CRLF', 2000, () => crlf.text.includes('still here'));
    expect(crlf.closed).toBe(false);
    crlf.socket.destroy();

    const halfClosing = rawClient(running.port, streamRequest('cut'));
    await until('stream open', 2000, () => halfClosing.text.includes('retry:'));
    await until('released', 2000, () => released(sockets, halfClosing));
    halfClosing.socket.end();
    await until('cut after a half-close', 2000, () => halfClosing.closed);
    await until('no stream left', 2000, () => running?.deps.hub.size === 0);
  });

  it('ends gracefully on shutdown: a short retry:, then the end of the connection', async () => {
    running = await startTestServer();
    const sockets = serverSockets(running.server);
    const reader = rawClient(running.port, streamRequest('bye'));
    await until('stream open', 2000, () => reader.text.includes('retry:'));
    await until('released', 2000, () => released(sockets, reader));
    const closing = running.close();
    await until('the stream ended by the server', 5000, () => reader.closed);
    expect(reader.text).toMatch(/retry: \d+\n\n$/);
    await closing;
    running = undefined;
  });
});
