/**
 * A Redis of the test's own, on a free port, that it can kill, restart and
 * stall: for the faults a shared Redis must not be put through.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { Redis } from 'ioredis';
import { until } from './deadlines.js';

/**
 * Every server started here and not yet killed: should the test process end
 * without its suite's cleanup (a hook that timed out), they are killed with it.
 */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A Redis of our own: no persistence, so a restart loses everything, as a cache-configured Redis does. */
export class OwnRedis {
  #process: ChildProcess | undefined;
  constructor(
    readonly port: number,
    /** Extra arguments, e.g. `--requirepass`. */
    private readonly args: string[] = [],
    /** A configuration file to start from (a Sentinel's: then `args` should hold `--sentinel`). */
    private readonly configFile?: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  /** Whether the process is still there (a SIGSTOPped one is). */
  get running(): boolean {
    return this.#process !== undefined && this.#process.exitCode === null && this.#process.signalCode === null;
  }

  /** The process's id, while it runs: what the suite signals. */
  get pid(): number | undefined {
    return this.running ? this.#process?.pid : undefined;
  }

  async start(): Promise<void> {
    const persistence = this.configFile === undefined ? ['--save', '', '--appendonly', 'no'] : [];
    this.#process = spawn(
      'redis-server',
      [
        ...(this.configFile === undefined ? [] : [this.configFile]),
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        ...persistence,
        ...this.args,
      ],
      { stdio: 'ignore' },
    );
    const child = this.#process;
    running.add(child);
    child.once('exit', () => running.delete(child));
    await until(`our Redis on ${this.port} answers`, 5000, () => answers(this.port));
  }

  /** Dies as a crash would, with everything it held. */
  async kill(): Promise<void> {
    const exited = this.running ? new Promise((resolve) => this.#process?.once('exit', resolve)) : Promise.resolve();
    this.#process?.kill('SIGKILL');
    await exited;
  }

  pause(): void {
    this.#process?.kill('SIGSTOP');
  }

  resume(): void {
    this.#process?.kill('SIGCONT');
  }
}

/** Whether Redis answers on `port` (with a password set, it answers PING with NOAUTH: an answer too). */
export function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.once('data', (chunk) => {
      socket.destroy();
      resolve(/^(\+PONG|-NOAUTH)/.test(chunk.toString()));
    });
    socket.once('error', () => resolve(false));
  });
}

/** One command to the Redis on `port`, on a connection of its own that never retries. */
export async function redisCommand(port: number, ...args: (string | number)[]): Promise<unknown> {
  const redis = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return await redis.call(...(args.map(String) as [string, ...string[]]));
  } finally {
    redis.disconnect();
  }
}
