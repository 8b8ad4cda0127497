/**
 * The head of an event stream on real connections: on HTTP/1.1 exactly the
 * bytes a client reads (no chunked framing: the body is the event stream),
 * on HTTP/2 the header block; both with `retry:` first and the middleware's
 * headers (CORS, cookies) carried over.
 */
import http from 'node:http';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { writeStreamHead } from '../../src/http/stream-head.js';
import { until, within } from '../support/deadlines.js';

const middleware = () => {
  const headers = new Headers({ 'Access-Control-Allow-Origin': 'https://a.example', 'Content-Type': 'text/plain' });
  headers.append('Set-Cookie', 'a=1; Path=/');
  headers.append('Set-Cookie', 'b=2; Path=/');
  headers.set('Connection', 'keep-alive');
  return headers;
};

describe('the head of an event stream', () => {
  const closers: (() => void)[] = [];
  afterEach(() => {
    for (const close of closers.splice(0)) close();
  });

  it('on HTTP/1.1: one 200 head without chunked framing, the stream’s own headers winning, then retry:', async () => {
    const server = http.createServer((_req, res) => {
      const socket = writeStreamHead(res, 1500, middleware());
      socket?.write('data: x\n\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => {
      server.closeAllConnections();
      server.close();
    });
    const client = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
    closers.push(() => client.destroy());
    client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    let received = '';
    client.setEncoding('utf8').on('data', (chunk: string) => {
      received += chunk;
    });
    await until('the head and the first event', 2000, () => received.includes('data: x\n\n'));
    const [head, body] = received.split('\r\n\r\n') as [string, string];
    const lines = head.split('\r\n');
    expect(lines[0]).toBe('HTTP/1.1 200 OK');
    expect(lines).toContain('Content-Type: text/event-stream; charset=utf-8');
    expect(lines).not.toContain('Content-Type: text/plain');
    expect(lines).toContain('Cache-Control: no-cache, no-transform');
    expect(lines).toContain('X-Accel-Buffering: no');
    expect(lines).toContain('access-control-allow-origin: https://a.example');
    expect(lines.filter((line) => line.startsWith('Set-Cookie: '))).toEqual([
      'Set-Cookie: a=1; Path=/',
      'Set-Cookie: b=2; Path=/',
    ]);
    expect(head.toLowerCase()).not.toContain('transfer-encoding');
    expect(body).toBe('retry: 1500\n\ndata: x\n\n');
  });

  it('on HTTP/2: its own stream, without connection-specific headers, cookies kept, retry: first', async () => {
    // Node drops a connection-specific header itself, with a process warning: the head sends none.
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    closers.push(() => process.off('warning', onWarning));
    const server = http2.createServer();
    server.on('request', (_req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
      const stream = writeStreamHead(res, 1500, middleware());
      stream?.write('data: x\n\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const session = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    closers.push(() => {
      session.destroy();
      server.close();
    });
    const request = session.request({ ':path': '/' });
    const headers = await within(
      'the response head',
      2000,
      new Promise<http2.IncomingHttpHeaders>((resolve) => request.on('response', resolve)),
    );
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => {
      body += chunk;
    });
    await until('retry and the first event', 2000, () => body.includes('data: x\n\n'));
    expect(headers[':status']).toBe(200);
    expect(headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(headers['access-control-allow-origin']).toBe('https://a.example');
    expect(headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(headers.connection).toBeUndefined();
    expect(warnings.filter((message) => /connection/i.test(message))).toEqual([]);
    expect(body).toBe('retry: 1500\n\ndata: x\n\n');
  });

  it('is not sent on a connection that is already gone, and says so', async () => {
    const server = http.createServer((_req, res) => {
      res.socket?.destroy();
      expect(writeStreamHead(res, 1000)).toBeUndefined();
      gone = true;
    });
    let gone = false;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => server.close());
    const client = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
    closers.push(() => client.destroy());
    client.on('error', () => {});
    client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await until('the handler ran', 2000, () => gone);
  });
});
