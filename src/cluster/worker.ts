/**
 * A worker of a machine running several (primary.ts): it serves HTTP and
 * streams exactly as a single process does, over the primary's store
 * (worker-store.ts). It exits at once when its channel to the primary closes
 * (the primary died: no worker serves without the sequencer), and drains when
 * the primary says so.
 */
import cluster from 'node:cluster';
import type { Logger } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import type { Config } from '../config.js';
import { PostBudget } from '../rate-limit.js';
import { type RunningServer, startServer } from '../server.js';
import { PrimaryLink } from './primary-link.js';
import type { ToPrimary } from './protocol.js';
import { WorkerPresenceShare, WorkerStreamSlots, WorkerTicketBook } from './worker-shares.js';
import { WorkerStore } from './worker-store.js';

export async function startWorker(
  config: Config,
  compareCursors: (a: string, b: string) => number,
  log: Logger,
): Promise<RunningServer> {
  const link = new PrimaryLink({
    send: (message: ToPrimary) => {
      if (process.connected) process.send?.(message, undefined, undefined, () => {});
    },
    on: (event, listener) => process.on(event, listener),
  });
  const store = new WorkerStore(link, compareCursors);
  // On Redis the worker joins Redis's tickets, presence and post budget like any instance (server.ts).
  const machine =
    config.store.kind === 'redis'
      ? {}
      : {
          ticketBook: new WorkerTicketBook(link),
          presenceShare: new WorkerPresenceShare(link),
          budget: config.rateLimit === undefined ? undefined : PostBudget.acrossWorkers(config.rateLimit),
        };
  const running = await startServer(config, {
    store,
    log,
    ...machine,
    slots: config.maxSubscribers === undefined ? undefined : new WorkerStreamSlots(link),
    worker: {
      index: Number(process.env.WALLCAST_WORKER_INDEX ?? 0),
      metrics: () => link.call('metrics', []) as Promise<string>,
    },
  });
  // Answers the primary's scrapes with this worker's series (prom-client joins them).
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([running.deps.metrics.registry]);
  process.on('disconnect', () => {
    log.error({ worker: cluster.worker?.id }, 'the primary is gone: exiting (no worker serves without it)');
    process.exit(1);
  });
  link.listen((message) => {
    if (message.wc === 'drain') drain();
  });
  const drain = () => {
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  // A signal to this worker alone (the machine's go to the primary, which drains every worker).
  process.once('SIGTERM', drain);
  process.once('SIGINT', drain);
  link.tell({ wc: 'serving', url: running.url });
  return running;
}
