/**
 * The server a stream suite talks to: one process in the test's own (as
 * `startTestServer`), or, with WALLCAST_TEST_WORKERS above 1 (the vitest
 * project "workers"), a machine of that many workers in a process of its own
 * (issue 20: the stream suites hold on workers as on one process). Only
 * what both can do is offered: the URL, a metric of the scrape, and close;
 * `inProcess` for the few tests that reach inside one process.
 */
import type { RunningServer } from '../../src/server.js';
import { spawnWallcast } from './process.js';
import { startTestServer } from './server.js';

/** Workers of the machine the stream suites run against (1: the test's own process). */
export const TEST_WORKERS = Number(process.env.WALLCAST_TEST_WORKERS ?? '1');

export interface ServerUnderTest {
  readonly url: string;
  /** The server in this very process, when it is one (a machine of workers is not). */
  readonly inProcess: RunningServer | undefined;
  /** A metric's value in a scrape of `/metrics` (over every worker). */
  metric(name: string): Promise<number>;
  close(): Promise<void>;
}

export async function startServerUnderTest(env: Record<string, string> = {}): Promise<ServerUnderTest> {
  const metric = (url: string) => async (name: string) => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return Number(line?.split(' ')[1] ?? Number.NaN);
  };
  if (TEST_WORKERS <= 1) {
    const running = await startTestServer(env);
    return { url: running.url, inProcess: running, metric: metric(running.url), close: () => running.close() };
  }
  const machine = await spawnWallcast({ WALLCAST_STORE: 'memory', WALLCAST_WORKERS: String(TEST_WORKERS), ...env });
  return {
    url: machine.url,
    inProcess: undefined,
    metric: metric(machine.url),
    close: async () => {
      machine.child.kill('SIGTERM');
      await machine.exited;
    },
  };
}
