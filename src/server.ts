import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { type AppDeps, createApp } from './app.js';
import type { Config } from './config.js';
import { Hub } from './hub.js';
import { Lifecycle } from './lifecycle.js';
import { Metrics } from './metrics.js';
import { createStore } from './store/create-store.js';
import type { MessageStore } from './store/store.js';

/**
 * Pending connections the kernel queues for us (capped by net.core.somaxconn).
 * Node's 511 drops SYNs when thousands of clients reconnect at once after a
 * restart, and each dropped SYN costs its client a second.
 */
const LISTEN_BACKLOG = 4096;

/** How long shutdown waits for streams and requests to end before cutting them. */
const SHUTDOWN_DEADLINE_MS = 5000;

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly deps: AppDeps;
  readonly server: Server;
  /** Graceful stop: refuse new work, send streams away, flush the store. */
  close(): Promise<void>;
}

/** The composition root: config → store → hub → app → listening server. */
export async function startServer(config: Config, store?: MessageStore): Promise<RunningServer> {
  const theStore = store ?? (await createStore(config));
  const hub = new Hub({
    heartbeatMs: config.heartbeatMs,
    slowClientBytes: config.slowClientBytes,
    compareCursors: (a, b) => theStore.compareCursors(a, b),
  });
  theStore.onEvent((wall, event) => hub.publish(wall, event));
  theStore.onFeedLost?.(() => {
    console.error('wallcast: the live feed lost events while cut off; restarting every stream');
    hub.disconnectAll();
  });
  const deps: AppDeps = { config, store: theStore, hub, metrics: new Metrics(), lifecycle: new Lifecycle() };
  const app = createApp(deps);
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: config.port, host: config.host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | undefined;

  const close = async () => {
    deps.lifecycle.drain();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Streams never end by themselves, and server.close() waits for them.
    hub.shutdown(() => 250 + Math.floor(Math.random() * 750));
    server.closeIdleConnections();
    const deadline = setTimeout(() => server.closeAllConnections(), SHUTDOWN_DEADLINE_MS);
    await closed;
    clearTimeout(deadline);
    await theStore.close();
  };

  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    port,
    deps,
    server,
    close: () => {
      closing ??= close();
      return closing;
    },
  };
}
