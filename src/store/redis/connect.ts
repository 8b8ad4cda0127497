import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisEndpoint } from '../../config-store.js';
import { settlesWithin } from '../../settles-within.js';

/** A connection to one Redis (standalone, or the primary Sentinels name) or to a cluster. */
export type RedisClient = Redis | Cluster;

/** Longest wait between reconnection attempts (to a Redis, a Sentinel, or a cluster's seeds). */
const MAX_RECONNECT_MS = 2000;

export interface ConnectOptions {
  /** A command that takes longer fails; undefined for the blocking feed readers. */
  commandTimeoutMs?: number;
  /**
   * A connection that was sent a command and heard nothing for this long is
   * dropped and made again: a Redis that stopped (SIGSTOP, a cut network)
   * is noticed even by a blocking read.
   */
  socketTimeoutMs?: number;
  /**
   * Where reads go: the primary (default), or a replica where the endpoint
   * names them (a cluster's slot map, the Sentinels), the primary when a
   * slot has none. One Redis has no replicas it knows of.
   */
  readFrom?: 'primary' | 'replica';
  /**
   * A cluster: connect to every node once ready (default), so that commands
   * sent at once to a node a slot just moved to are not refused (below). A
   * feed reader sends one command at a time, which ioredis lets through to a
   * node it has not connected to yet: it connects to what it reads only.
   */
  connectEveryNode?: boolean;
}

/**
 * A connection to the Redis of `endpoint`, for the store, its feed readers,
 * the post budget and the side connection alike: the one place that knows
 * the three kinds of endpoint (config-store.ts parses them).
 *
 * The same choices for every kind, each for exactly-once posts and prompt
 * answers:
 * - A command fails at once while there is no connection (no offline
 *   queue): a post answers 503 rather than wait, and a command that never
 *   left is known not to have run.
 * - A command in flight when the connection drops fails at once and is
 *   never sent again by ioredis (`maxRetriesPerRequest: 0`,
 *   `autoResendUnfulfilledCommands: false`): ioredis would otherwise resend
 *   an append that may have run, and store it twice.
 * - Cluster: a command refused with MOVED, ASK, TRYAGAIN or CLUSTERDOWN did
 *   not run, and ioredis sends it again where the slot now is; one whose
 *   connection closed is not sent again (`retryDelayOnFailover: 0`), since
 *   it may have run. Once the cluster is ready, every node is connected to
 *   as soon as it is known (below), so that a slot moving to it finds the
 *   connection made.
 * - Sentinel: ioredis asks the Sentinels for the primary at every
 *   (re)connection and checks that it is one. Its `failoverDetector` stays
 *   off: in the notes behind issue 19 it could close the client for good
 *   during a failover; without it, a primary that is killed or demoted
 *   (Sentinel kills its clients when it demotes it) drops the connection,
 *   and the reconnection finds the new one.
 */
export function connectRedis(endpoint: RedisEndpoint, options: ConnectOptions = {}): RedisClient {
  const common: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: options.commandTimeoutMs,
    socketTimeout: options.socketTimeoutMs,
    retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_MS),
  };
  switch (endpoint.mode) {
    case 'standalone':
      return new Redis(endpoint.url, common);
    case 'sentinel':
      return new Redis({
        ...common,
        sentinels: endpoint.sentinels,
        name: endpoint.masterName,
        db: endpoint.db,
        username: endpoint.username,
        password: endpoint.password,
        failoverDetector: false,
        role: options.readFrom === 'replica' ? 'slave' : 'master',
        sentinelRetryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_MS),
      });
    case 'cluster': {
      const cluster = new Cluster(endpoint.nodes, {
        enableOfflineQueue: false,
        retryDelayOnFailover: 0,
        retryDelayOnMoved: 0,
        retryDelayOnClusterDown: 100,
        retryDelayOnTryAgain: 100,
        slotsRefreshTimeout: 1000,
        scaleReads: options.readFrom === 'replica' ? 'slave' : 'master',
        clusterRetryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_MS),
        redisOptions: { ...common, username: endpoint.username, password: endpoint.password },
      });
      // ioredis connects to a node at its first command, and without an offline queue
      // refuses the commands that come while it connects ("Connection is closed.", as if
      // one had been lost in flight): the first posts after a failover moved a slot to
      // a replica. So once the cluster is ready every node, replicas too, is connected
      // to as soon as it is known. (Not before: ioredis's own ready check is refused
      // the same way by a node still connecting, and would never pass.)
      const connectNode = (node: Redis) => {
        if (node.status === 'wait') node.connect().catch(() => {});
      };
      if (options.connectEveryNode ?? true) {
        cluster.on('+node', (node: Redis) => {
          if (cluster.status === 'ready') connectNode(node);
        });
        cluster.on('ready', () => {
          for (const node of cluster.nodes('all')) connectNode(node);
        });
      }
      return cluster;
    }
  }
}

export function isCluster(client: RedisClient): client is Cluster {
  return client.isCluster;
}

/** How long `closeClient` waits for QUIT's answer before it cuts the connection. */
const QUIT_WAIT_MS = 1000;

/**
 * Closes a connection within QUIT_WAIT_MS whatever Redis does (issue 19:
 * shutdown must end): QUIT when Redis answers, then the socket is cut
 * either way, which also ends ioredis's reconnection attempts.
 */
export async function closeClient(client: RedisClient): Promise<void> {
  await settlesWithin(client.quit(), QUIT_WAIT_MS);
  client.disconnect();
}

/** How often a cluster node that keeps failing is logged again. */
const NODE_REPORT_MS = 10_000;

/** Logs when a connection is lost and when it is back, not each retry; a cluster's nodes each once in a while. */
export function reportConnection(client: RedisClient, log: Logger): void {
  let lost = false;
  client.on('error', (error: Error) => {
    if (lost) return;
    lost = true;
    log.warn({ err: error }, 'redis: not answering; posts and reads answer 503 until it is back');
  });
  client.on('ready', () => {
    if (!lost) return;
    lost = false;
    log.info('redis: connection is back');
  });
  if (!isCluster(client)) return;
  const reported = new Map<string, number>();
  client.on('node error', (error: Error, node: string) => {
    const nowMs = Date.now();
    if (nowMs - (reported.get(node) ?? 0) < NODE_REPORT_MS) return;
    reported.set(node, nowMs);
    log.warn(
      { err: error, node },
      'redis: a cluster node is not answering; its partitions answer 503 until it is back or replaced',
    );
  });
}

/**
 * Resolves once `client` is ready (a cluster: with a connection made to
 * each of its nodes, see above), or with false after `ms`.
 */
export async function connected(client: RedisClient, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  const ready = () =>
    client.status === 'ready' && (!isCluster(client) || client.nodes('all').every((node) => node.status === 'ready'));
  while (!ready()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}
