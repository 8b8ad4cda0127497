import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Logger } from 'pino';
import { createApp } from './app.js';
import type { AppDeps } from './app-deps.js';
import type { Config } from './config.js';
import { Hub } from './hub.js';
import { Lifecycle } from './lifecycle.js';
import { createLogger } from './logger.js';
import { Metrics } from './metrics.js';
import { Posting } from './posting.js';
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

export interface ServerOptions {
  /** A store built by the caller (tests); by default the one `config.store` names. */
  store?: MessageStore;
  log?: Logger;
}

/** The composition root: config → store → hub → app → listening server. */
export async function startServer(config: Config, options: ServerOptions = {}): Promise<RunningServer> {
  const log = options.log ?? createLogger();
  const store = options.store ?? (await createStore(config, log));
  const hub = new Hub({
    heartbeatMs: config.heartbeatMs,
    slowClientBytes: config.slowClientBytes,
    compareCursors: (a, b) => store.compareCursors(a, b),
  });
  // The live feed: every event the store keeps, from this instance or any
  // other, goes to every stream of its wall here.
  store.onEvent((wall, event) => hub.publish(wall, event));
  store.onFeedLost?.(() => hub.disconnectAll());

  const metrics = new Metrics();
  const lifecycle = new Lifecycle();
  const posting = new Posting(config, store, metrics, lifecycle);
  const deps: AppDeps = { config, store, hub, posting, metrics, lifecycle, log };
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
    lifecycle.drain();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Streams never end by themselves, and server.close() waits for them.
    hub.shutdown(() => 250 + Math.floor(Math.random() * 750));
    server.closeIdleConnections();
    const deadline = setTimeout(() => server.closeAllConnections(), SHUTDOWN_DEADLINE_MS);
    await closed;
    clearTimeout(deadline);
    await store.close();
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
