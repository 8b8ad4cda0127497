/**
 * Clients that make the server hold memory for them: pipelined requests
 * behind an open stream, readers that never read a large response or a
 * large replay. Against a real process whose RSS is read from /proc, on a
 * wall of 1000 messages of 16 KB of JSON each (quotes: escaped in the JSON,
 * `&quot;` in the HTML), which the default history bytes would not keep.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/deadlines.js';
import { postJson } from '../support/http.js';
import { spawnWallcast, type WallcastProcess } from '../support/process.js';

const MESSAGES = 1000;
const SEND_TIMEOUT_MS = 2000;
/** Growth allowed while an attack holds: the bounds are about 1 MiB per client; unbounded was 0.5–1 GB. */
const MAX_GROWTH_BYTES = 150 * 1024 * 1024;

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1]) * 1024;
}

/** The highest RSS over `ms`, sampled every 50 ms. */
async function peakRss(pid: number, ms: number): Promise<number> {
  let peak = rssBytes(pid);
  const end = Date.now() + ms;
  while (Date.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    peak = Math.max(peak, rssBytes(pid));
  }
  return peak;
}

/** A connection that sends `text` and reads nothing until told to. */
class Idle {
  readonly socket: net.Socket;
  closed = false;
  received = 0;

  constructor(port: number, text: string) {
    this.socket = net.connect(port, '127.0.0.1', () => this.socket.write(text));
    this.socket.on('close', () => {
      this.closed = true;
    });
    this.socket.on('error', () => {});
  }

  /** Starts reading: a connection the server already cut ends at once. */
  drain(): void {
    this.socket.on('data', (chunk: Buffer) => {
      this.received += chunk.length;
    });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Whether the server cut these connections while they read nothing: after
 * waiting, they start reading, and one the server closed ends at once (one
 * it did not would take the whole response, then idle on keep-alive).
 */
async function cutWhileIdle(clients: Idle[], waitMs: number): Promise<void> {
  await sleep(waitMs);
  for (const c of clients) c.drain();
  await until('every connection cut by the server', 1500, () => clients.every((c) => c.closed));
}

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;

describe('memory a client can make the server hold', () => {
  let server: WallcastProcess;
  let port: number;
  let pid: number;

  beforeAll(async () => {
    server = await spawnWallcast({
      WALLCAST_STORE: 'memory',
      WALLCAST_HISTORY: String(MESSAGES),
      WALLCAST_HISTORY_BYTES: String(64 << 20),
      WALLCAST_SEND_TIMEOUT_MS: String(SEND_TIMEOUT_MS),
      WALLCAST_HEARTBEAT_MS: '1000',
      WALLCAST_LONGPOLL_MS: '1000',
    });
    port = Number(new URL(server.url).port);
    pid = server.child.pid as number;
    const body = '"'.repeat(2000);
    for (let i = 0; i < MESSAGES; i += 25) {
      await Promise.all(Array.from({ length: 25 }, () => postJson(server.url, '/api/walls/big/messages', { body })));
    }
    const page = await fetch(`${server.url}/api/walls/big/messages?limit=1`);
    expect((await page.text()).length).toBeGreaterThan(16_000);
  }, 60_000);
  afterAll(async () => {
    server?.child.kill('SIGKILL');
    await server?.exited;
  });

  it('runs no request queued behind an open stream on one connection, and cuts a deep queue', async () => {
    const before = rssBytes(pid);
    // Each connection: a stream, then 8 pipelined reads of the whole wall (16 MB of JSON each).
    const queued = Array.from(
      { length: 5 },
      () =>
        new Idle(port, get('/api/walls/big/events?backlog=0') + get('/api/walls/big/messages?limit=1000').repeat(8)),
    );
    const deep = new Idle(port, get('/api/walls/big/events?backlog=0') + get('/api/healthz').repeat(40));
    const peak = await peakRss(pid, 2500);
    expect(peak - before).toBeLessThan(MAX_GROWTH_BYTES);
    await cutWhileIdle([deep], 0);
    expect(queued.every((c) => !c.closed)).toBe(true);
    for (const c of [...queued, deep]) c.socket.destroy();
  });

  it('still answers a few pipelined requests in order', async () => {
    const client = new Idle(port, get('/healthz') + get('/readyz') + get('/healthz'));
    let text = '';
    client.socket.setEncoding('utf8');
    client.socket.on('data', (chunk: string) => {
      text += chunk;
    });
    await until('three answers', 3000, () => (text.match(/HTTP\/1\.1 200/g) ?? []).length === 3);
    expect(text.indexOf('"ok"')).toBeLessThan(text.indexOf('"ready"'));
    client.socket.destroy();
  });

  it('bounds what 30 readers that never read a large history page cost, and cuts them', async () => {
    const before = rssBytes(pid);
    const readers = Array.from({ length: 30 }, () => new Idle(port, get('/api/walls/big/messages?limit=1000')));
    const peak = await peakRss(pid, SEND_TIMEOUT_MS);
    expect(peak - before).toBeLessThan(MAX_GROWTH_BYTES);
    await cutWhileIdle(readers, SEND_TIMEOUT_MS * 2);
    // A page is at most 1 MiB: far less than the 16 MB asked for, even had it been read to the end.
    for (const r of readers) expect(r.received).toBeLessThan(2 * 1024 * 1024);
  });

  it('bounds what 30 fresh streams with a large backlog that never read cost', async () => {
    // The backlog is written up to 1 MiB a page, and a stream's socket holds at most the
    // slow-client bound; what the kernel's buffers take in is not the process's to hold.
    // (A stream whose writes stop completing is cut like any connection: see above.)
    const before = rssBytes(pid);
    const streams = Array.from({ length: 30 }, () => new Idle(port, get('/api/walls/big/events?backlog=1000')));
    const peak = await peakRss(pid, SEND_TIMEOUT_MS);
    expect(peak - before).toBeLessThan(MAX_GROWTH_BYTES);
    for (const s of streams) s.socket.destroy();
  });
});
