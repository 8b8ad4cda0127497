import { createServer, type Server } from 'node:http';
import { createSecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { nanoid } from 'nanoid';
import type { Logger } from 'pino';
import { createApp } from './app.js';
import type { AppDeps } from './app-deps.js';
import { createAuth } from './auth/create-auth.js';
import { RedisTicketBook } from './auth/redis-ticket-book.js';
import type { TicketBook } from './auth/tickets.js';
import type { Config } from './config.js';
import type { RedisTarget } from './config-store.js';
import { ClientAddresses } from './http/client-address.js';
import { oneRequestAtATime, trackConnections } from './http/connections.js';
import { serveMetrics } from './http/metrics-server.js';
import { ParserRelease } from './http/stream-connection.js';
import { Lifecycle } from './lifecycle.js';
import { createLogger } from './logger.js';
import { Metrics } from './metrics.js';
import { Posting } from './posting.js';
import { MemoryPresenceShare } from './presence/memory-presence-share.js';
import type { PresenceShare } from './presence/presence-share.js';
import { PresenceTracker } from './presence/presence-tracker.js';
import { presenceKeyOf, RedisPresenceShare } from './presence/redis/redis-presence-share.js';
import { PostBudget } from './rate-limit.js';
import { settlesWithin } from './settles-within.js';
import { createStore } from './store/create-store.js';
import { closeClient, connectRedis, type RedisClient } from './store/redis/connect.js';
import type { MessageStore } from './store/store.js';
import { EvictionLog } from './stream/eviction-log.js';
import { Hub } from './stream/hub.js';
import { LongPolls } from './stream/long-polls.js';
import { PresenceFanout } from './stream/presence-fanout.js';
import { ReplayMemo } from './stream/replay-memo.js';
import type { StreamContext } from './stream/stream.js';
import { LocalStreamSlots, type StreamSlots } from './stream/stream-slots.js';

/**
 * Pending connections the kernel queues for us (capped by net.core.somaxconn).
 * Node's 511 drops SYNs when thousands of clients reconnect at once after a
 * restart, and each dropped SYN costs its client a second.
 */
const LISTEN_BACKLOG = 4096;

/** How long a ticket or presence call to Redis may take before it fails (the store's own bound is its). */
const SIDE_COMMAND_TIMEOUT_MS = 2000;

/** How long shutdown waits for streams and requests to end before cutting them. */
const SHUTDOWN_DEADLINE_MS = 5000;

/** The least time the store gets to flush and close once the connections are gone (SQLite's last commit, Redis's quit). */
const MIN_FLUSH_MS = 1000;

/** How often requests in progress are checked against WALLCAST_REQUEST_TIMEOUT_MS. */
const REQUEST_TIMEOUT_CHECK_MS = 1000;

/**
 * Bytes of request headers Node's HTTP/1.1 parser takes (its default is
 * 16 KiB). A token is refused past 8,192 characters (auth/token-verifier.ts
 * MAX_TOKEN_CHARS) with the contract's 401 token_invalid; at Node's default a
 * 16 KB one got Node's bare 431 instead (issue 16: "a 16 KB token refused at
 * once"). Twice the default leaves room for that token and a cookie holding
 * one more; beyond it Node still answers its bare 431 and closes.
 */
const MAX_HEADER_BYTES = 32 * 1024;

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly deps: AppDeps;
  /** The HTTP/1.1 server, or with TLS the HTTP/2 one (which takes HTTP/1.1 too). */
  readonly server: Server;
  /** Where `/metrics` is, when WALLCAST_METRICS_PORT gives it a port of its own. */
  readonly metricsUrl: string | undefined;
  /** Graceful stop: refuse new work, send streams away, flush the store. */
  close(): Promise<void>;
}

export interface ServerOptions {
  /** A store built by the caller (tests, a cluster worker); by default the one `config.store` names. */
  store?: MessageStore;
  log?: Logger;
  /** Where tickets wait, when not in this process or the store's Redis (a cluster worker: the primary). */
  ticketBook?: TicketBook;
  /** Whom presence is shared with, likewise. */
  presenceShare?: PresenceShare;
  /** WALLCAST_MAX_SUBSCRIBERS's slots, when counted elsewhere (a cluster worker: by the primary). */
  slots?: StreamSlots;
  /** The post budget, when counted elsewhere (a cluster worker: by the primary). */
  budget?: PostBudget;
  /** A cluster worker: its number; the primary serves WALLCAST_METRICS_PORT, and scrapes join every worker's series. */
  worker?: { index: number; metrics: () => Promise<string> };
}

/** The composition root: config → store → hub → app → listening server. */
export async function startServer(config: Config, options: ServerOptions = {}): Promise<RunningServer> {
  const log = options.log ?? createLogger();
  const store = options.store ?? (await createStore(config, log));
  const metrics = new Metrics();
  const evictions = new EvictionLog(log);
  const hub = new Hub({
    heartbeatMs: config.heartbeatMs,
    observeLag: (lagMs) => metrics.deliveryLagSeconds.observe(lagMs / 1000),
    onEvict: (wall) => evictions.record(wall),
  });
  metrics.observe(hub, store);
  const longPolls = new LongPolls();
  // The live feed: every event the store keeps, from this instance or any
  // other, goes to every stream of its wall here (and wakes its long polls).
  store.onEvent((wall, event) => {
    hub.publish(wall, event);
    longPolls.wake(wall);
  });
  store.onFeedLost?.(() => hub.disconnectAll());
  const streams: Omit<StreamContext, 'slots' | 'presence' | 'presenceFanout'> = {
    hub,
    store,
    memo: new ReplayMemo(),
    log,
    onResume: () => metrics.replays.inc(),
    onReset: () => metrics.resets.inc(),
  };
  const parserKept = (reason: string | undefined) =>
    log.warn(
      { reason, node: process.version },
      'streams keep their HTTP parser on this Node (about 2.5 KB more per idle stream; nothing else changes)',
    );
  const parserRelease = new ParserRelease(config.releaseParser === 'on', parserKept);

  const lifecycle = new Lifecycle();
  lifecycle.onDrain(() => longPolls.wakeAll());
  // On Redis, tickets and presence are shared by every instance, over one connection of their own.
  const shared = config.store.kind === 'redis' ? sideConnection(config.store) : undefined;
  const auth = createAuth(
    {
      secret: config.jwtSecret,
      publicKeyFile: config.jwtPublicKey,
      jwksUrl: config.jwksUrl,
      issuer: config.jwtIssuer,
      audience: config.jwtAudience,
      privateWalls: config.privateWalls,
      openWalls: config.openWalls,
      cookieName: config.tokenCookie,
      ticketBook: options.ticketBook ?? (shared && new RedisTicketBook(shared.redis, shared.prefix)),
    },
    log,
  );
  const presence = new PresenceTracker({
    share:
      options.presenceShare ??
      (shared === undefined
        ? new MemoryPresenceShare()
        : new RedisPresenceShare({
            redis: shared.redis,
            keyOf: presenceKeyOf(shared.prefix),
            instanceId: nanoid(),
            log: log.child({ presence: 'redis' }),
          })),
    graceMs: config.presenceGraceMs,
    maxGraced: config.maxSubscribers,
    maxPeoplePerWall: config.maxSubscribers,
    log,
  });
  const streamContext: StreamContext = {
    ...streams,
    slots: options.slots ?? new LocalStreamSlots(config.maxSubscribers),
    presence,
    presenceFanout: new PresenceFanout(presence, hub),
  };
  const budget = options.budget ?? postBudget(config);
  const posting = new Posting(config, store, metrics, lifecycle, budget, auth);
  const clients = new ClientAddresses(config.trustProxy);
  const deps: AppDeps = {
    config,
    store,
    auth,
    presence,
    hub,
    streams: streamContext,
    parserRelease,
    longPolls,
    posting,
    clients,
    metrics,
    lifecycle,
    log,
    workerIndex: options.worker?.index,
  };
  const app = createApp(deps);
  const listener = oneRequestAtATime(getRequestListener(app.fetch));
  const limits = {
    // A request's headers and body must arrive in time: a trickling client is cut.
    headersTimeout: config.requestTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    connectionsCheckingInterval: REQUEST_TIMEOUT_CHECK_MS,
    // Assigned to the HTTP/2 server too: its HTTP/1.1 connections read it from the server.
    maxHeaderSize: MAX_HEADER_BYTES,
  };
  const server =
    config.tlsCert !== undefined && config.tlsKey !== undefined
      ? // HTTPS: HTTP/2 for clients that offer it (ALPN), HTTP/1.1 for the others.
        (createSecureServer(
          { cert: config.tlsCert, key: config.tlsKey, allowHTTP1: true },
          listener,
        ) as unknown as Server)
      : createServer(limits, listener);
  Object.assign(server, limits);
  const connections = trackConnections(server, config.tlsCert !== undefined);
  // A connection that takes nothing we send, and sends nothing, for this long is closed:
  // Node's socket timeout is reset by every write that completes, and suppressed
  // while a large write is still making progress (net.Socket#_onTimeout).
  server.setTimeout(config.sendTimeoutMs);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: config.port, host: config.host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  if (!parserRelease.supported && config.releaseParser === 'on') parserKept(parserRelease.reason);
  // Fetches a JWK Set URL's keys now, so that the first token does not wait for them (failures are logged).
  void auth.warmUp();
  // After listening, a server error (an accept that failed) is logged, never a crash.
  server.on('error', (error) => log.error({ err: error }, 'server error'));
  if (options.worker !== undefined) metrics.gatherFrom(options.worker.metrics);
  const metricsServer =
    config.metricsPort === undefined || options.worker !== undefined ? undefined : await serveMetrics(config, metrics);
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | undefined;

  const close = async () => {
    const startedMs = Date.now();
    lifecycle.drain();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Streams never end by themselves, and server.close() waits for them.
    const streams = hub.size;
    hub.shutdown(() => 250 + Math.floor(Math.random() * 750));
    log.info({ streams }, 'shutdown: new work refused, streams told to come back soon');
    server.closeIdleConnections();
    connections.closeSessions();
    const deadline = setTimeout(() => {
      log.warn('shutdown: connections still open after the deadline; cutting them');
      // Streams first: their connections left Node's list with their parser (http/stream-connection.ts).
      hub.disconnectAll();
      connections.cutAll();
    }, SHUTDOWN_DEADLINE_MS);
    await closed;
    clearTimeout(deadline);
    metricsServer?.close();
    evictions.flush();
    const flushed = (async () => {
      await presence.close();
      await shared?.close();
      await budget?.close();
      await store.close();
    })();
    // The rest of the deadline, whatever the store is doing (a Redis that does not answer):
    // what clients were told is stored was stored before they were told, so nothing they know of is lost.
    const leftMs = Math.max(MIN_FLUSH_MS, startedMs + SHUTDOWN_DEADLINE_MS - Date.now());
    if (await settlesWithin(flushed, leftMs)) log.info('shutdown: connections closed, store flushed and closed');
    else log.warn({ waitedMs: leftMs }, 'shutdown: the store did not close in time; leaving it');
  };

  const origin = host === '0.0.0.0' ? '127.0.0.1' : host;
  const metricsPort = (metricsServer?.address() as AddressInfo | undefined)?.port;
  return {
    url: `${config.tlsCert === undefined ? 'http' : 'https'}://${origin}:${port}`,
    metricsUrl: metricsPort === undefined ? undefined : `http://${origin}:${metricsPort}/metrics`,
    port,
    deps,
    server,
    close: () => {
      closing ??= close();
      return closing;
    },
  };
}

/**
 * A Redis connection for what instances share beside the store (tickets,
 * presence), made as the store's are (one Redis, the primary Sentinels
 * name, or a cluster: store/redis/connect.ts): a call fails at once while
 * Redis does not answer instead of queueing, and `close` ends within a
 * second whatever Redis does.
 */
function sideConnection(target: RedisTarget): { redis: RedisClient; prefix: string; close(): Promise<void> } {
  const redis = connectRedis(target.endpoint, { commandTimeoutMs: SIDE_COMMAND_TIMEOUT_MS });
  // The store's own connection reports outages; here they only mean presence and tickets wait.
  redis.on('error', () => {});
  if (redis.isCluster) redis.on('node error', () => {});
  return { redis, prefix: target.prefix, close: () => closeClient(redis) };
}

/** The post budget: counted in Redis when the store is Redis (one budget over every instance). */
function postBudget(config: Config): PostBudget | undefined {
  if (config.rateLimit === undefined) return undefined;
  return config.store.kind === 'redis'
    ? PostBudget.onRedis(config.rateLimit, config.store)
    : PostBudget.inMemory(config.rateLimit);
}
