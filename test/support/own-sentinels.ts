/**
 * A Sentinel-managed primary of the test's own (issue 19): a primary, two
 * replicas and three Sentinels (quorum 2), redis-server processes on
 * loopback ports found free, started and stopped by the suite (by pid),
 * without persistence. Two replicas, so that after the primary is killed
 * the new one still has a replica to confirm `?wait=1` writes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from './deadlines.js';
import { OwnRedis, redisCommand } from './own-redis.js';
import { freePort } from './ports.js';

export const MASTER_NAME = 'wallcast';
/** How long the primary goes unanswered before the Sentinels call it down. */
export const DOWN_AFTER_MS = 1000;
const SENTINELS = 3;
const REPLICAS = 2;

export class OwnSentinels {
  readonly dir = mkdtempSync(join(tmpdir(), 'wallcast-sentinel-'));
  readonly servers: OwnRedis[] = [];
  readonly sentinels: OwnRedis[] = [];

  private constructor() {}

  static async start(): Promise<OwnSentinels> {
    const group = new OwnSentinels();
    try {
      await group.#start();
    } catch (error) {
      await group.stop();
      throw error;
    }
    return group;
  }

  /** The store URL: every Sentinel, and the name they monitor the primary under. */
  url(query = ''): string {
    const sentinels = this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(',');
    return `redis+sentinel://${sentinels}/${MASTER_NAME}${query === '' ? '' : `?${query}`}`;
  }

  /** A command to one server or Sentinel, on a connection of its own. */
  command(port: number, ...args: (string | number)[]): Promise<unknown> {
    return redisCommand(port, ...args);
  }

  /** The primary's port as the first Sentinel that answers names it. */
  async primaryPort(): Promise<number> {
    for (const sentinel of this.sentinels.filter((s) => s.running)) {
      try {
        const [, port] = (await this.command(sentinel.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as [
          string,
          string,
        ];
        return Number(port);
      } catch {}
    }
    throw new Error('no Sentinel answers');
  }

  server(port: number): OwnRedis {
    const server = this.servers.find((s) => s.port === port);
    if (server === undefined) throw new Error(`no server on ${port}`);
    return server;
  }

  /**
   * Healthy: every Sentinel names the same primary, which is a primary
   * with `replicas` replicas online.
   */
  async healthy(replicas = REPLICAS): Promise<boolean> {
    try {
      const named = new Set<string>();
      for (const sentinel of this.sentinels) {
        const [host, port] = (await this.command(
          sentinel.port,
          'SENTINEL',
          'GET-MASTER-ADDR-BY-NAME',
          MASTER_NAME,
        )) as [string, string];
        named.add(`${host}:${port}`);
      }
      if (named.size !== 1) return false;
      const info = (await this.command(await this.primaryPort(), 'INFO', 'replication')) as string;
      return /^role:master\r?$/m.test(info) && (info.match(/^slave\d+:.*state=online/gm)?.length ?? 0) >= replicas;
    } catch {
      return false;
    }
  }

  /** Kills every process (SIGKILL, by pid) and removes their files. */
  async stop(): Promise<void> {
    for (const process of [...this.servers, ...this.sentinels]) process.resume();
    await Promise.all([...this.servers, ...this.sentinels].map((process) => process.kill()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  async #start(): Promise<void> {
    // A replica's first sync starts at once, not after Redis's 5 s wait for more replicas;
    // and the RDB a replica loads it from is written in the suite's directory.
    const fast = ['--repl-diskless-sync-delay', '0', '--dir', this.dir];
    const primary = new OwnRedis(await freePort(), fast);
    this.servers.push(primary);
    await primary.start();
    for (let i = 0; i < REPLICAS; i++) {
      const replica = new OwnRedis(await freePort(), [...fast, '--replicaof', '127.0.0.1', String(primary.port)]);
      this.servers.push(replica);
      await replica.start();
    }
    await until('the replicas are in sync', 10_000, async () => {
      const info = (await this.command(primary.port, 'INFO', 'replication')) as string;
      return (info.match(/^slave\d+:.*state=online/gm)?.length ?? 0) === REPLICAS;
    });
    for (let i = 0; i < SENTINELS; i++) {
      const port = await freePort();
      const file = join(this.dir, `sentinel-${port}.conf`);
      // Sentinel rewrites its file (what it learns), so each has its own, in the suite's directory.
      writeFileSync(
        file,
        [
          `dir ${this.dir}`,
          `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${primary.port} 2`,
          `sentinel down-after-milliseconds ${MASTER_NAME} ${DOWN_AFTER_MS}`,
          `sentinel failover-timeout ${MASTER_NAME} 5000`,
          `sentinel parallel-syncs ${MASTER_NAME} ${REPLICAS}`,
          '',
        ].join('\n'),
      );
      const sentinel = new OwnRedis(port, ['--sentinel'], file);
      this.sentinels.push(sentinel);
      await sentinel.start();
    }
    await until('every Sentinel knows the replicas and the other Sentinels', 15_000, async () => {
      for (const sentinel of this.sentinels) {
        const replicas = (await this.command(sentinel.port, 'SENTINEL', 'REPLICAS', MASTER_NAME)) as unknown[];
        const others = (await this.command(sentinel.port, 'SENTINEL', 'SENTINELS', MASTER_NAME)) as unknown[];
        if (replicas.length !== REPLICAS || others.length !== SENTINELS - 1) return false;
      }
      return true;
    });
  }
}
