/**
 * The primary of a machine running several workers (WALLCAST_WORKERS): it
 * owns the store, the only sequencer of cursors, and serves no HTTP. It
 * forks the workers (node:cluster hands each accepted connection to one of
 * them, in turn), feeds them every event (worker-feeds.ts), answers their
 * store calls, joins their metrics, replaces a worker that dies, and on
 * SIGTERM drains them all before closing the store.
 *
 * A killed primary takes its workers with it: each exits when its channel
 * to the primary closes (worker.ts), so none serves without a sequencer.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import { RateLimiterClusterMaster } from 'rate-limiter-flexible';
import { MemoryTicketBook } from '../auth/memory-ticket-book.js';
import type { Config } from '../config.js';
import { serveMetrics } from '../http/metrics-server.js';
import { createStore } from '../store/create-store.js';
import { MachinePresence } from './machine-presence.js';
import { isOurs, sendToWorker, type ToPrimary } from './protocol.js';
import { WorkerFeeds } from './worker-feeds.js';

/** How long the workers get to drain their streams before they are killed (their own deadline is 5 s). */
const DRAIN_DEADLINE_MS = 8000;

/** Worker deaths within CRASH_WINDOW_MS past which the machine stops instead of forking again (a crash loop). */
const MAX_CRASHES = 10;
const CRASH_WINDOW_MS = 60_000;

export interface Machine {
  /** The URL the workers serve. */
  readonly url: string;
  readonly metricsUrl: string | undefined;
  /** Drains every worker, then closes the store; resolves once done (or at the deadline). */
  close(): Promise<void>;
  /** Resolves when the machine stopped on its own (a crash loop): with the exit code to use. */
  readonly failed: Promise<number>;
}

/** Starts the store and `workers` workers; resolves once every worker is serving. */
export async function startPrimary(config: Config, workers: number, log: Logger): Promise<Machine> {
  // Structured clone on the channel: a batch's JSON string crosses as it is (worker-feeds.ts).
  cluster.setupPrimary({ serialization: 'advanced' });
  const store = await createStore(config, log);
  const aggregator = new AggregatorRegistry();
  // On Redis every worker joins Redis's tickets, presence and post budget like any instance; else the primary keeps them.
  const onRedis = config.store.kind === 'redis';
  const feeds = new WorkerFeeds(
    store,
    {
      metrics: () => aggregator.clusterMetrics(),
      tickets: onRedis ? undefined : new MemoryTicketBook(),
      presence: onRedis ? undefined : new MachinePresence(config.presenceGraceMs),
      maxSubscribers: config.maxSubscribers,
    },
    log,
    config.workerQueueBytes,
  );
  if (!onRedis && config.rateLimit !== undefined) new RateLimiterClusterMaster();
  const metricsServer: Server | undefined =
    config.metricsPort === undefined
      ? undefined
      : await serveMetrics(config, {
          text: () => aggregator.clusterMetrics(),
          headers: () => ({ 'Content-Type': aggregator.contentType }),
        });
  let stopping = false;
  const crashes: number[] = [];
  let fail: (code: number) => void = () => {};
  const failed = new Promise<number>((resolve) => {
    fail = resolve;
  });
  let ready: (url: string) => void = () => {};
  const serving = new Promise<string>((resolve) => {
    ready = resolve;
  });
  const servingWorkers = new Set<number>();

  const fork = (index: number): Worker => {
    const worker = cluster.fork({ WALLCAST_WORKER_INDEX: String(index) });
    feeds.attach(worker);
    worker.on('message', (message: unknown) => {
      if (!isOurs(message) || (message as ToPrimary).wc !== 'serving') return;
      servingWorkers.add(index);
      if (servingWorkers.size === workers) ready((message as unknown as { url: string }).url);
    });
    worker.once('exit', (code, signal) => {
      if (stopping) return;
      const now = Date.now();
      crashes.push(now);
      while ((crashes[0] ?? now) < now - CRASH_WINDOW_MS) crashes.shift();
      if (crashes.length > MAX_CRASHES) {
        log.error({ crashes: crashes.length }, 'workers keep dying: stopping instead of forking more');
        fail(1);
        return;
      }
      log.warn(
        { worker: index, code, signal },
        'a worker died: forking its replacement (its clients resume elsewhere)',
      );
      fork(index);
    });
    return worker;
  };
  for (let index = 0; index < workers; index++) fork(index);
  const url = await Promise.race([serving, failed.then(() => '')]);
  const metricsPort = (metricsServer?.address() as AddressInfo | undefined)?.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const origin = host === '0.0.0.0' ? '127.0.0.1' : host;

  let closing: Promise<void> | undefined;
  const close = async () => {
    stopping = true;
    const alive = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined);
    const exited = Promise.all(
      alive.map(
        (worker) =>
          new Promise<void>((resolve) => (worker.isDead() ? resolve() : worker.once('exit', () => resolve()))),
      ),
    );
    for (const worker of alive) {
      sendToWorker(worker, { wc: 'drain' });
    }
    const deadline = setTimeout(() => {
      log.warn('shutdown: workers still draining after the deadline; killing them');
      for (const worker of alive) if (!worker.isDead()) worker.process.kill('SIGKILL');
    }, DRAIN_DEADLINE_MS);
    await exited;
    clearTimeout(deadline);
    metricsServer?.close();
    await store.close();
    log.info('shutdown: every worker drained, store flushed and closed');
  };
  return {
    url,
    metricsUrl: metricsPort === undefined ? undefined : `http://${origin}:${metricsPort}/metrics`,
    close: () => {
      closing ??= close();
      return closing;
    },
    failed,
  };
}
