/**
 * A machine of several workers (WALLCAST_WORKERS) as its tests drive it: the
 * primary's process, its workers' pids, and clients that follow a wall and
 * resume from their last id whenever their stream ends, on whichever worker
 * the next connection lands.
 */
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { until } from './deadlines.js';
import { spawnWallcast, type WallcastProcess } from './process.js';
import { RawSse } from './sse-reader.js';

export async function startMachine(env: Record<string, string>): Promise<WallcastProcess> {
  const machine = await spawnWallcast({ WALLCAST_WORKERS: '2', WALLCAST_STORE: 'memory', ...env });
  await until('both workers forked', 5000, () => workerPids(machine).length === 2);
  return machine;
}

/** The primary's children: its workers. */
export function workerPids(machine: WallcastProcess): number[] {
  try {
    const out = execFileSync('pgrep', ['-P', String(machine.child.pid)], { encoding: 'utf8' });
    return out.trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Whether a process of that pid is alive. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A request on a connection of its own (no keep-alive), so that node:cluster
 * hands it to the next worker in turn. Resolves with the status, body and
 * the worker that answered.
 */
export function request(
  url: string,
  options: { method?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ status: number; text: string; worker: string | undefined }> {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: options.method ?? (body === undefined ? 'GET' : 'POST'),
        agent: false,
        headers: { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...options.headers },
        timeout: options.timeoutMs ?? 10_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          const worker = res.headers['wallcast-worker'];
          resolve({ status: res.statusCode ?? 0, text, worker: typeof worker === 'string' ? worker : undefined });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Follows a wall's stream; when it ends (the server closed it, or `drop`),
 * it opens the next from the last id it saw, as EventSource does. Keeps every
 * message body in order, and the worker of each connection.
 */
export class Follower {
  readonly bodies: string[] = [];
  readonly workers: string[] = [];
  #sse: RawSse | undefined;
  #lastId: string | undefined;
  #stopped = false;

  constructor(
    private readonly url: string,
    /** Messages of this many first connections are dropped on purpose (a client that comes and goes). */
    private readonly dropEvery = 0,
  ) {
    this.#open();
  }

  get connections(): number {
    return this.workers.length;
  }

  /** Whether a connection is open and has its head (retry and the id to resume from). */
  get live(): boolean {
    return this.#sse !== undefined && !this.#sse.closed && this.#sse.frames.some((f) => f.id !== undefined);
  }

  /** Closes the connection now; the next one resumes from the last id. */
  drop(): void {
    this.#sse?.close();
  }

  stop(): void {
    this.#stopped = true;
    this.#sse?.close();
  }

  #open(): void {
    const sse = new RawSse(this.url, this.#lastId === undefined ? {} : { 'Last-Event-ID': this.#lastId });
    this.#sse = sse;
    let seen = 0;
    const consume = () => {
      for (const frame of sse.frames.slice(seen)) {
        if (frame.id !== undefined) this.#lastId = frame.id;
        if (frame.data !== undefined && frame.event === undefined) {
          this.bodies.push((JSON.parse(frame.data) as { body: string }).body);
          if (this.dropEvery > 0 && this.bodies.length % this.dropEvery === 0) sse.close();
        }
      }
      seen = sse.frames.length;
    };
    sse.opened.then(
      () => this.workers.push(String(sse.headers['wallcast-worker'])),
      () => {},
    );
    const watch = () => {
      consume();
      if (sse.closed) {
        if (!this.#stopped) setTimeout(() => this.#open(), 20);
        return;
      }
      sse.waitFor('more', (s) => s.frames.length > seen || s.closed, 600_000).then(watch, watch);
    };
    watch();
  }
}
