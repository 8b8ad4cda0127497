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
import { type RunningServer, startServer } from '../server.js';
import { isOurs, type ToPrimary, type ToWorker } from './protocol.js';
import { type Channel, WorkerStore } from './worker-store.js';

export async function startWorker(
  config: Config,
  compareCursors: (a: string, b: string) => number,
  log: Logger,
): Promise<RunningServer> {
  const channel: Channel = {
    send: (message: ToPrimary) => {
      if (process.connected) process.send?.(message, undefined, undefined, () => {});
    },
    on: (event, listener) => process.on(event, listener),
  };
  const store = new WorkerStore(channel, compareCursors);
  const running = await startServer(config, { store, log, worker: { metrics: () => store.metrics() } });
  // Answers the primary's scrapes with this worker's series (prom-client joins them).
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([running.deps.metrics.registry]);
  process.on('disconnect', () => {
    log.error({ worker: cluster.worker?.id }, 'the primary is gone: exiting (no worker serves without it)');
    process.exit(1);
  });
  process.on('message', (message: unknown) => {
    if (isOurs(message) && (message as ToWorker).wc === 'drain') drain();
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
  channel.send({ wc: 'serving', url: running.url });
  return running;
}
