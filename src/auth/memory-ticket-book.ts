/**
 * Tickets of one instance, in memory (the TicketBook contract is in
 * tickets.ts). Expired tickets are swept as tickets come and go; no timer.
 */
import type { TicketBook, TicketRecord } from './tickets.js';

/**
 * Tickets waiting at once. A ticket lives 60 s at most and is taken within a
 * second when its stream opens: 10,000 is ~160 streams opened per second,
 * sustained, at under 1 KB each. Past it, the oldest ticket is dropped: its
 * stream, if it is still coming, gets `ticket_invalid` and asks for another
 * (the client library does), rather than every new stream being refused.
 */
export const MAX_MEMORY_TICKETS = 10_000;

export class MemoryTicketBook implements TicketBook {
  /** In insertion order, which is nearly expiry order: sweeping from the front finds the expired. */
  readonly #records = new Map<string, TicketRecord>();

  constructor(readonly maxTickets = MAX_MEMORY_TICKETS) {}

  /** Tickets held now (expired ones not yet swept included). */
  get size(): number {
    return this.#records.size;
  }

  async put(id: string, record: TicketRecord): Promise<void> {
    this.#sweep(Date.now());
    while (this.#records.size >= this.maxTickets) {
      const oldest = this.#records.keys().next().value;
      if (oldest === undefined) break;
      this.#records.delete(oldest);
    }
    this.#records.set(id, record);
  }

  async take(id: string): Promise<TicketRecord | undefined> {
    const now = Date.now();
    this.#sweep(now);
    const record = this.#records.get(id);
    this.#records.delete(id);
    return record === undefined || record.expiresAtMs <= now ? undefined : record;
  }

  /**
   * Drops expired tickets from the front. A ticket cut short by its token's
   * expiry may wait behind a later one; it is dropped when reached, refused
   * when taken, and counted in the bound meanwhile.
   */
  #sweep(now: number): void {
    for (const [id, record] of this.#records) {
      if (record.expiresAtMs > now) return;
      this.#records.delete(id);
    }
  }
}
