/**
 * A raw event-stream reader: keeps every frame as sent (id-only frames and
 * comments included), which the `eventsource` package hides.
 */
import http from 'node:http';
import { within } from './deadlines.js';

export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  retry?: number;
  comment?: string;
}

export class RawSse {
  readonly frames: SseFrame[] = [];
  /** When each frame arrived (Date.now()), by index into `frames`. */
  readonly arrivals: number[] = [];
  status = 0;
  headers: http.IncomingHttpHeaders = {};
  closed = false;
  #request!: http.ClientRequest;
  #buffer = '';
  #waiters: (() => void)[] = [];
  readonly opened: Promise<void>;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.opened = new Promise((resolve, reject) => {
      this.#request = http.get(url, { headers: { Accept: 'text/event-stream', ...headers } }, (res) => {
        this.status = res.statusCode ?? 0;
        this.headers = res.headers;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => this.#feed(chunk));
        res.on('close', () => {
          this.closed = true;
          this.#wake();
        });
        resolve();
      });
      this.#request.on('error', (error) => {
        this.closed = true;
        this.#wake();
        reject(error);
      });
    });
    this.opened.catch(() => {});
  }

  /** Message events (no `event:` or `event: message`) with data, parsed. */
  messages<T = { id: string; cursor: string; body: string }>(): T[] {
    return this.frames
      .filter((f) => f.data !== undefined && (f.event === undefined || f.event === 'message'))
      .map((f) => JSON.parse(f.data as string) as T);
  }

  async waitFor(label: string, check: (sse: RawSse) => boolean, ms = 5000): Promise<void> {
    await within(
      label,
      ms,
      new Promise<void>((resolve, reject) => {
        const test = () => {
          if (check(this)) return resolve();
          if (this.closed) return reject(new Error(`stream closed while waiting: ${label}`));
          this.#waiters.push(test);
        };
        test();
      }),
    );
  }

  async waitForMessages(count: number, label: string, ms = 5000): Promise<void> {
    await this.waitFor(label, (sse) => sse.messages().length >= count, ms);
  }

  close(): void {
    this.#request.destroy();
  }

  #feed(chunk: string): void {
    this.#buffer += chunk;
    let end = this.#buffer.search(/\r\n\r\n|\n\n|\r\r/);
    while (end !== -1) {
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + (this.#buffer.startsWith('\r\n\r\n', end) ? 4 : 2));
      this.frames.push(parseFrame(block));
      this.arrivals.push(Date.now());
      end = this.#buffer.search(/\r\n\r\n|\n\n|\r\r/);
    }
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter();
  }
}

function parseFrame(block: string): SseFrame {
  const frame: SseFrame = {};
  for (const line of block.split(/\r\n|\r|\n/)) {
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (name === '') frame.comment = value;
    else if (name === 'data') frame.data = frame.data === undefined ? value : `${frame.data}\n${value}`;
    else if (name === 'id') frame.id = value;
    else if (name === 'event') frame.event = value;
    else if (name === 'retry') frame.retry = Number(value);
  }
  return frame;
}
