/**
 * HTTPS with HTTP/2 (WALLCAST_TLS_CERT, WALLCAST_TLS_KEY), with a
 * self-signed certificate made by openssl for the run: the real `curl
 * --http2 -N`, Node's own HTTP/2 client, and HTTP/1.1 over TLS on the same
 * port.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parserReleased } from '../../src/http/stream-connection.js';
import type { RunningServer } from '../../src/server.js';
import { until } from '../support/deadlines.js';
import { startTestServer } from '../support/server.js';
import { selfSignedCertificate } from '../support/tls.js';

const run = promisify(execFile);

describe('HTTPS with HTTP/2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wallcast-tls-'));
  let server: RunningServer;
  beforeAll(async () => {
    const { cert, key } = selfSignedCertificate(dir);
    server = await startTestServer({ WALLCAST_TLS_CERT: cert, WALLCAST_TLS_KEY: key });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves an event stream over HTTP/2 to curl --http2 -N, live, with posts over HTTP/2', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const curl = spawn('curl', ['-skN', '--http2', '-v', `${server.url}/api/walls/h2/events`]);
    let log = '';
    curl.stderr.on('data', (chunk) => {
      log += chunk;
    });
    let out = '';
    curl.stdout.on('data', (chunk) => {
      out += chunk;
    });
    try {
      await until('curl got the head', 5000, () => out.includes('retry:'));
      // Not execFileSync: the server runs in this process, and must answer meanwhile.
      const { stdout } = await run('curl', [
        '-sk',
        '--http2',
        '-H',
        'Content-Type: application/json',
        '-d',
        '{"body":"over h2"}',
        `${server.url}/api/walls/h2/messages`,
      ]);
      const posted = JSON.parse(stdout);
      await until('curl got the message', 5000, () => out.includes('over h2'));
      expect(out).toContain(`id: ${posted.cursor}\ndata: ${JSON.stringify(posted)}\n\n`);
      expect(log).toMatch(/< HTTP\/2 200/);
    } finally {
      curl.kill();
    }
  });

  it('speaks HTTP/2 when offered, and multiplexes several streams on one connection', async () => {
    const session = http2.connect(server.url, { rejectUnauthorized: false });
    session.on('error', () => {});
    try {
      const open = (wall: string) => {
        const request = session.request({ ':path': `/api/walls/${wall}/events?backlog=0` });
        const state = { status: 0, text: '', type: '' };
        request.on('response', (headers) => {
          state.status = Number(headers[':status']);
          state.type = String(headers['content-type']);
        });
        request.setEncoding('utf8');
        request.on('data', (chunk: string) => {
          state.text += chunk;
        });
        return { request, state };
      };
      const streams = ['m1', 'm2', 'm3'].map(open);
      await until('three streams open on one connection', 5000, () =>
        streams.every((s) => s.state.text.includes('retry:')),
      );
      expect(streams.every((s) => s.state.status === 200 && s.state.type.startsWith('text/event-stream'))).toBe(true);
      expect(server.deps.hub.size).toBeGreaterThanOrEqual(3);
      const post = session.request({
        ':method': 'POST',
        ':path': '/api/walls/m2/messages',
        'content-type': 'application/json',
      });
      post.end(JSON.stringify({ body: 'to m2 only' }));
      await until('m2 live', 5000, () => streams[1]?.state.text.includes('to m2 only'));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(streams[0]?.state.text).not.toContain('to m2 only');
      // Closing one stream leaves the others (and the connection) alone.
      streams[0]?.request.close();
      await until('one stream fewer', 5000, () => server.deps.hub.size === 2);
    } finally {
      session.destroy();
    }
  });

  it('serves HTTP/1.1 over TLS on the same port, live (after the connection gave back its parser)', async () => {
    const sockets: TLSSocket[] = [];
    const onConnection = (socket: TLSSocket) => sockets.push(socket);
    server.server.on('secureConnection', onConnection);
    const post = (body: string) =>
      new Promise<void>((resolve, reject) => {
        const request = https.request(`${server.url}/api/walls/h1/messages`, {
          method: 'POST',
          rejectUnauthorized: false,
          headers: { 'Content-Type': 'application/json' },
        });
        request.on('response', (res) => res.resume().on('end', resolve));
        request.on('error', reject);
        request.end(JSON.stringify({ body }));
      });
    const text = await new Promise<string>((resolve, reject) => {
      const request = https.get(
        `${server.url}/api/walls/h1/events?backlog=0`,
        { rejectUnauthorized: false, headers: { Accept: 'text/event-stream' } },
        (res) => {
          expect(res.httpVersion).toBe('1.1');
          res.setEncoding('utf8');
          let body = '';
          res.on('data', (chunk: string) => {
            body += chunk;
            // Posted once the stream is open: the parser is given back on the next turn.
            if (chunk.includes('retry:')) setTimeout(() => post('over h1 and TLS').catch(reject), 50);
            if (body.includes('over h1 and TLS')) {
              request.destroy();
              resolve(body);
            }
          });
        },
      );
      request.on('error', reject);
    });
    expect(text).toMatch(/^retry: \d+/);
    server.server.off('secureConnection', onConnection);
    expect(sockets.some((socket) => parserReleased(socket))).toBe(true);
  });
});

describe('HTTPS shutdown', () => {
  it('sends idle HTTP/2 sessions away and ends HTTP/1.1 streams, and finishes (Node’s HTTP/2 server has no closeAllConnections)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wallcast-tls-'));
    const { cert, key } = selfSignedCertificate(dir);
    const running = await startTestServer({ WALLCAST_TLS_CERT: cert, WALLCAST_TLS_KEY: key });
    try {
      // An HTTP/2 session left open after one request, as a browser keeps it.
      const session = http2.connect(running.url, { rejectUnauthorized: false });
      session.on('error', () => {});
      await new Promise<void>((resolve, reject) => {
        const request = session.request({ ':path': '/healthz' });
        request.on('error', reject).resume().on('end', resolve);
        request.end();
      });
      const wentAway = new Promise<void>((resolve) => session.once('goaway', () => resolve()));
      // And an HTTP/1.1 stream over TLS.
      let text = '';
      const ended = new Promise<void>((resolve, reject) => {
        https
          .get(
            `${running.url}/api/walls/bye/events`,
            { rejectUnauthorized: false, headers: { Accept: 'text/event-stream' } },
            (res) => {
              res.setEncoding('utf8');
              res.on('data', (chunk: string) => {
                text += chunk;
              });
              res.on('end', resolve);
              res.on('error', () => resolve());
            },
          )
          .on('error', reject);
      });
      await until('the stream open', 5000, () => running.deps.hub.size === 1);
      await running.close();
      await wentAway;
      await ended;
      expect(text).toMatch(/retry: \d+\n\n$/);
      session.destroy();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('TLS settings', () => {
  it('needs both files, and says which one it cannot read', async () => {
    const { loadConfig } = await import('../../src/config.js');
    expect(() => loadConfig({ WALLCAST_TLS_CERT: '/nonexistent/cert.pem' })).toThrow(
      /^WALLCAST_TLS_CERT="\/nonexistent\/cert.pem" cannot be read as a PEM file \(ENOENT\)/,
    );
    const dir = mkdtempSync(join(tmpdir(), 'wallcast-tls-'));
    try {
      const { cert } = selfSignedCertificate(dir);
      expect(() => loadConfig({ WALLCAST_TLS_CERT: cert })).toThrow(/go together/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
