/**
 * A Redis Cluster of the test's own (issue 19): three masters and a replica
 * each, redis-server processes on loopback ports found free, started and
 * stopped by the suite (by pid), without persistence. Made by hand
 * (slots, MEET, REPLICATE) rather than with `redis-cli --cluster create`,
 * whose waits cost seconds.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from './deadlines.js';
import { OwnRedis, redisCommand } from './own-redis.js';
import { freePort } from './ports.js';

/**
 * How long a node goes unanswered before the others fail it over: short,
 * for the suite's failovers, yet far above a busy machine's pauses.
 */
export const NODE_TIMEOUT_MS = 1500;
const MASTERS = 3;
const SLOTS = 16384;

export interface ClusterNode {
  port: number;
  id: string;
  role: 'master' | 'replica';
  /** Its master's port, for a replica. */
  masterPort?: number;
  /** Flags such as `fail`, `fail?`, `handshake`. */
  flags: string[];
  slots: [number, number][];
}

export class OwnCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'wallcast-cluster-'));
  readonly #nodes = new Map<number, OwnRedis>();
  /** Each node's cluster bus port (chosen free too: port + 10000 may not be). */
  readonly #busPorts = new Map<number, number>();

  private constructor() {}

  /** Starts six nodes, makes them a cluster, and waits until every node says it is ok. */
  static async start(): Promise<OwnCluster> {
    const cluster = new OwnCluster();
    const ports: number[] = [];
    for (let i = 0; i < 2 * MASTERS; i++) {
      const port = await freePort();
      const busPort = await freePort();
      const node = new OwnRedis(port, [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(cluster.dir, `nodes-${port}.conf`),
        '--cluster-port',
        String(busPort),
        '--cluster-node-timeout',
        String(NODE_TIMEOUT_MS),
        '--cluster-allow-replica-migration',
        'no',
        // A replica's first sync starts at once, not after Redis's 5 s wait for more replicas;
        // and its offset moves within a second (CLUSTER SLOTS leaves out a replica at offset 0).
        '--repl-diskless-sync-delay',
        '0',
        '--repl-ping-replica-period',
        '1',
        '--dir',
        cluster.dir,
      ]);
      cluster.#nodes.set(port, node);
      cluster.#busPorts.set(port, busPort);
      ports.push(port);
    }
    try {
      await Promise.all([...cluster.#nodes.values()].map((node) => node.start()));
      await cluster.#form(ports);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  get ports(): number[] {
    return [...this.#nodes.keys()];
  }

  /** The store URL: the first three nodes as seeds (any one would do). */
  url(query = ''): string {
    const seeds = this.ports.slice(0, MASTERS).map((port) => `127.0.0.1:${port}`);
    return `redis+cluster://${seeds.join(',')}/${query === '' ? '' : `?${query}`}`;
  }

  /** A node's process (to kill, restart, stop or resume). */
  node(port: number): OwnRedis {
    const node = this.#nodes.get(port);
    if (node === undefined) throw new Error(`no node on ${port}`);
    return node;
  }

  /** A command to one node, on a connection of its own. */
  command(port: number, ...args: (string | number)[]): Promise<unknown> {
    return redisCommand(port, ...args);
  }

  /** The cluster as `port` sees it. */
  async topology(port: number): Promise<ClusterNode[]> {
    const text = (await this.command(port, 'CLUSTER', 'NODES')) as string;
    const byId = new Map<string, number>();
    const rows = text
      .trim()
      .split('\n')
      .map((line) => line.split(' '));
    for (const row of rows) byId.set(row[0] as string, Number((row[1] as string).split(/[:@]/)[1]));
    return rows.map((row) => {
      const flags = (row[2] as string).split(',');
      const slots = row.slice(8).flatMap((range): [number, number][] => {
        if (range.startsWith('[')) return [];
        const [low, high] = range.split('-').map(Number);
        return [[low as number, high ?? (low as number)]];
      });
      return {
        port: byId.get(row[0] as string) as number,
        id: row[0] as string,
        role: flags.includes('master') ? 'master' : 'replica',
        masterPort: row[3] === '-' ? undefined : byId.get(row[3] as string),
        flags: flags.filter((flag) => !['myself', 'master', 'slave'].includes(flag)),
        slots,
      } satisfies ClusterNode;
    });
  }

  /** The masters that hold slots, as a live node sees them. */
  async masters(): Promise<ClusterNode[]> {
    const nodes = await this.topology(await this.#liveNode());
    return nodes.filter((node) => node.role === 'master' && node.slots.length > 0);
  }

  /** The master holding `slot`. */
  async masterOf(slot: number): Promise<ClusterNode> {
    const master = (await this.masters()).find((m) => m.slots.some(([low, high]) => slot >= low && slot <= high));
    if (master === undefined) throw new Error(`no master holds slot ${slot}`);
    return master;
  }

  /**
   * Healthy as the suites mean it: every live node says `cluster_state:ok`,
   * no node is flagged failing, and every master holding slots has a
   * replica whose link to it is up.
   */
  async healthy(): Promise<boolean> {
    try {
      for (const port of this.ports) {
        if (!this.node(port).running) continue;
        const info = (await this.command(port, 'CLUSTER', 'INFO')) as string;
        if (!/^cluster_state:ok\r?$/m.test(info)) return false;
      }
      const nodes = await this.topology(await this.#liveNode());
      if (nodes.some((node) => node.flags.some((flag) => flag.startsWith('fail')))) return false;
      for (const master of nodes.filter((node) => node.role === 'master' && node.slots.length > 0)) {
        const info = (await this.command(master.port, 'INFO', 'replication')) as string;
        if (!/^slave\d+:.*state=online/m.test(info)) return false;
      }
      return true;
    } catch {
      return false;
    }
  }

  /** `CLUSTER FAILOVER` on the replica of the master on `masterPort`; resolves once the replica is master. */
  async failover(masterPort: number): Promise<number> {
    const nodes = await this.topology(masterPort);
    const replica = nodes.find((node) => node.masterPort === masterPort);
    if (replica === undefined) throw new Error(`the master on ${masterPort} has no replica`);
    await this.command(replica.port, 'CLUSTER', 'FAILOVER');
    await until(`the replica on ${replica.port} took over from ${masterPort}`, 10_000, async () => {
      const role = (await this.command(replica.port, 'ROLE')) as unknown[];
      return role[0] === 'master';
    });
    return replica.port;
  }

  /** Deletes every key under `prefix` on every master. */
  async deletePrefix(prefix: string): Promise<void> {
    for (const master of await this.masters()) {
      let cursor = '0';
      do {
        const [next, keys] = (await this.command(
          master.port,
          'SCAN',
          cursor,
          'MATCH',
          `${prefix}*`,
          'COUNT',
          1000,
        )) as [string, string[]];
        // One DEL per key: the keys of one SCAN are in many slots.
        for (const key of keys) await this.command(master.port, 'DEL', key);
        cursor = next;
      } while (cursor !== '0');
    }
  }

  /** Kills every node (SIGKILL, by pid) and removes their files. */
  async stop(): Promise<void> {
    for (const node of this.#nodes.values()) node.resume();
    await Promise.all([...this.#nodes.values()].map((node) => node.kill()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  async #liveNode(): Promise<number> {
    const port = this.ports.find((p) => this.node(p).running);
    if (port === undefined) throw new Error('no node of the cluster is running');
    return port;
  }

  /** Slots evenly over the first three nodes, every node met, a replica for each master; then ok everywhere. */
  async #form(ports: number[]): Promise<void> {
    const masters = ports.slice(0, MASTERS);
    const replicas = ports.slice(MASTERS);
    // Distinct config epochs, as redis-cli gives them, so no collision has to be resolved.
    for (const [i, port] of ports.entries()) await this.command(port, 'CLUSTER', 'SET-CONFIG-EPOCH', i + 1);
    for (const [i, port] of masters.entries()) {
      const low = Math.floor((i * SLOTS) / MASTERS);
      const high = Math.floor(((i + 1) * SLOTS) / MASTERS) - 1;
      await this.command(port, 'CLUSTER', 'ADDSLOTSRANGE', low, high);
    }
    const first = masters[0] as number;
    for (const port of ports.slice(1)) {
      await this.command(first, 'CLUSTER', 'MEET', '127.0.0.1', port, this.#busPorts.get(port) as number);
    }
    await until('every node knows every other', 10_000, async () => {
      for (const port of ports) {
        const nodes = await this.topology(port);
        if (nodes.length !== ports.length || nodes.some((n) => n.flags.includes('handshake'))) return false;
      }
      return true;
    });
    const ids = new Map((await this.topology(first)).map((node) => [node.port, node.id]));
    for (const [i, port] of replicas.entries()) {
      await this.command(port, 'CLUSTER', 'REPLICATE', ids.get(masters[i] as number) as string);
    }
    await until('the cluster is ok everywhere, each master with its replica', 15_000, async () => {
      if (!(await this.healthy())) return false;
      // Every node must know each replica as its master's, for a failover to be agreed on
      // and for clients to learn the replicas from CLUSTER SLOTS.
      for (const port of ports) {
        const nodes = await this.topology(port);
        if (nodes.filter((n) => n.role === 'replica' && n.masterPort !== undefined).length !== replicas.length) {
          return false;
        }
        const slots = (await this.command(port, 'CLUSTER', 'SLOTS')) as unknown[][];
        if (slots.some((range) => range.length < 4)) return false;
      }
      return true;
    });
  }
}

/** Whether the tests that start their own Redis processes must skip: no redis-server (never in CI). */
export function withoutRedisServer(): boolean {
  const found = (process.env.PATH ?? '').split(':').some((dir) => {
    try {
      return statSync(join(dir, 'redis-server')).isFile();
    } catch {
      return false;
    }
  });
  if (found || process.env.CI) return false;
  console.warn(
    'skipping the Redis Cluster and Sentinel tests: no redis-server on the PATH (apt-get install redis-server)',
  );
  return true;
}
