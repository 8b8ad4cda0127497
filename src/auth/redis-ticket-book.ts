/**
 * Tickets in Redis, shared by every instance on it (the TicketBook contract
 * is in tickets.ts): one key per ticket, `{prefix}ticket:{id}`, written with
 * `SET … PX` so Redis drops it when it expires, and taken with `GETDEL`
 * (Redis 6.2), which reads and deletes as one command: single use across
 * instances without a script. One key per ticket also suits Redis Cluster
 * (issue 19): each command touches one key, so the client may be a cluster's.
 */
import type { Cluster, Redis } from 'ioredis';
import { StoreUnavailableError } from '../store/store.js';
import { parseTicketRecord, type TicketBook, type TicketRecord } from './tickets.js';

export class RedisTicketBook implements TicketBook {
  /**
   * `redis`: a client of the store's Redis, or of its cluster (its command
   * timeout and offline behaviour are the store's). `prefix`: the store's
   * key prefix, `wallcast:` by default.
   */
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefix: string,
  ) {}

  async put(id: string, record: TicketRecord): Promise<void> {
    const ttlMs = Math.ceil(record.expiresAtMs - Date.now());
    if (ttlMs <= 0) return;
    // NX: a ticket id is never reused (192 random bits); should one be, the first keeps it.
    const stored = await this.#call(() => this.redis.set(this.#key(id), JSON.stringify(record), 'PX', ttlMs, 'NX'));
    if (stored !== 'OK') throw new Error('a ticket id was drawn twice');
  }

  async take(id: string): Promise<TicketRecord | undefined> {
    const json = await this.#call(() => this.redis.getdel(this.#key(id)));
    // Redis dropped it at its PX; Tickets.redeem checks expiresAtMs against this instance's clock too.
    return json === null ? undefined : parseTicketRecord(json);
  }

  #key(id: string): string {
    return `${this.prefix}ticket:${id}`;
  }

  /** A Redis that does not answer is a 503 with Retry-After, as for the store. */
  async #call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new StoreUnavailableError('The ticket store (Redis) is not answering; try again in a moment.', {
        cause: error,
      });
    }
  }
}
