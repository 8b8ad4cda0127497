import { Redis } from 'ioredis';
import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessPolicy } from '../../src/auth/access.js';
import { AuthFailure } from '../../src/auth/auth-failure.js';
import type { Identity } from '../../src/auth/identity.js';
import { can } from '../../src/auth/identity.js';
import { MemoryTicketBook } from '../../src/auth/memory-ticket-book.js';
import { RedisTicketBook } from '../../src/auth/redis-ticket-book.js';
import { TICKET_TTL_MS, type TicketBook, type TicketRecord, Tickets } from '../../src/auth/tickets.js';
import { parseWallPatternList, WallPatterns } from '../../src/auth/wall-patterns.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { within } from '../support/deadlines.js';
import { deleteRedisPrefix, REDIS_URL } from '../support/redis.js';
import { withoutRedis } from '../support/services.js';

const access = new AccessPolicy({
  keyConfigured: true,
  privateWalls: parseWallPatternList('team-*,staff'),
  openWalls: WallPatterns.none,
});

/** A verified token's identity: reads team-a and team-b, posts to team-a, until `expiresAtMs`. */
function tokenIdentity(expiresAtMs = Date.now() + 3_600_000): Identity {
  return {
    sub: 'u42',
    name: 'Ann',
    grants: {
      read: parseWallPatternList('team-a,team-b'),
      post: parseWallPatternList('team-a'),
      moderate: WallPatterns.none,
    },
    expiresAtMs,
    via: 'bearer',
  };
}

async function refusal(promise: Promise<unknown>): Promise<AuthFailure> {
  const error = await within('ticket', 5000, promise).then(
    () => expect.unreachable('it was accepted'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthFailure);
  return error as AuthFailure;
}

const record = (expiresAtMs: number): TicketRecord => ({
  sub: 'u42',
  name: 'Ann',
  walls: ['team-a'],
  tokenExpiresAtMs: expiresAtMs + 1000,
  expiresAtMs,
});

/** The TicketBook contract, for every book: `books()` gives two books over one shared place. */
function describeTicketBook(name: string, books: () => Promise<{ first: TicketBook; second: TicketBook }>) {
  describe(`${name} (the TicketBook contract)`, () => {
    let first: TicketBook;
    let second: TicketBook;
    beforeAll(async () => {
      ({ first, second } = await books());
    });

    it('gives a record back once: a second take, here or on the other instance, finds nothing', async () => {
      const stored = record(Date.now() + 10_000);
      await first.put('t1', stored);
      expect(await second.take('t1')).toEqual(stored);
      expect(await first.take('t1')).toBeUndefined();
      expect(await second.take('t1')).toBeUndefined();
      expect(await first.take('never-put')).toBeUndefined();
    });

    it('lets exactly one of many concurrent takes have a record', async () => {
      await first.put('t2', record(Date.now() + 10_000));
      const takes = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? first : second).take('t2')));
      expect(takes.filter((taken) => taken !== undefined)).toHaveLength(1);
    });

    it('gives nothing for a record past its expiry, wherever it waits', async () => {
      // A long-lived record first, so an expired one behind it is not simply swept from the front.
      await first.put('t-long', record(Date.now() + 10_000));
      await first.put('t3', record(Date.now() + 30));
      await first.put('t4', record(Date.now() - 1));
      // Time passing, not a wait for something to happen: the record's 30 ms are over after this.
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(await second.take('t3')).toBeUndefined();
      expect(await second.take('t4')).toBeUndefined();
    });
  });
}

const memory = new MemoryTicketBook();
describeTicketBook('MemoryTicketBook', async () => ({ first: memory, second: memory }));

describe('MemoryTicketBook bounds', () => {
  it('keeps at most its bound, dropping the oldest first, and sweeps expired tickets', async () => {
    const book = new MemoryTicketBook(3);
    for (const id of ['a', 'b', 'c', 'd']) await book.put(id, record(Date.now() + 10_000));
    expect(book.size).toBe(3);
    expect(await book.take('a')).toBeUndefined();
    expect(await book.take('d')).toBeDefined();
    const sweeping = new MemoryTicketBook(100);
    for (let i = 0; i < 50; i++) await sweeping.put(`old${i}`, record(Date.now() - 1));
    await sweeping.put('new', record(Date.now() + 10_000));
    expect(sweeping.size).toBe(1);
  });
});

describe.skipIf(await withoutRedis())('on a real Redis', () => {
  const prefix = `wallcast-test-${nanoid(8)}:`;
  const clients: Redis[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.quit()));
    await deleteRedisPrefix(prefix);
  });
  const client = () => {
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    clients.push(redis);
    return redis;
  };

  describeTicketBook('RedisTicketBook', async () => ({
    first: new RedisTicketBook(client(), prefix),
    second: new RedisTicketBook(client(), prefix),
  }));

  it('keeps one key per ticket under the prefix, expiring with the ticket', async () => {
    const redis = client();
    const book = new RedisTicketBook(redis, prefix);
    await book.put('keyed', record(Date.now() + 5000));
    const ttl = await redis.pttl(`${prefix}ticket:keyed`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5000);
  });

  it('redeems on one instance a ticket issued on another, once', async () => {
    const issuing = new Tickets(new RedisTicketBook(client(), prefix), access);
    const redeeming = new Tickets(new RedisTicketBook(client(), prefix), access);
    const { ticket } = await issuing.issue(tokenIdentity(), ['team-a']);
    const identity = await redeeming.redeem(ticket, ['team-a']);
    expect(identity).toMatchObject({ sub: 'u42', name: 'Ann', via: 'ticket' });
    expect((await refusal(issuing.redeem(ticket, ['team-a']))).reason).toBe('ticket_invalid');
  });

  it('answers a Redis that is not there with StoreUnavailableError (a 503)', async () => {
    const dead = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    dead.on('error', () => {});
    const book = new RedisTicketBook(dead, prefix);
    await expect(within('take', 5000, book.take('x'))).rejects.toBeInstanceOf(StoreUnavailableError);
    dead.disconnect();
  });
});

describe('tickets', () => {
  const tickets = (ttlMs?: number) => new Tickets(new MemoryTicketBook(), access, { ttlMs });

  it('exchanges a token for a ticket that reads the walls it names, carrying the token identity and expiry', async () => {
    const expiresAtMs = Date.now() + 3_600_000;
    const book = tickets();
    const issued = await book.issue(tokenIdentity(expiresAtMs), ['team-a', 'team-b', 'team-a']);
    expect(issued.ticket).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(issued.expiresInSeconds).toBe(TICKET_TTL_MS / 1000);
    const identity = await book.redeem(issued.ticket, ['team-b', 'team-a']);
    expect(identity).toMatchObject({ sub: 'u42', name: 'Ann', expiresAtMs, via: 'ticket' });
    expect(can(identity, 'read', 'team-a')).toBe(true);
    expect(can(identity, 'post', 'team-a')).toBe(false);
    expect(can(identity, 'read', 'team-c')).toBe(false);
  });

  it('refuses a ticket used twice', async () => {
    const book = tickets();
    const { ticket } = await book.issue(tokenIdentity(), ['team-a']);
    await book.redeem(ticket, ['team-a']);
    const replay = await refusal(book.redeem(ticket, ['team-a']));
    expect(replay.reason).toBe('ticket_invalid');
    expect(replay.message).toMatch(/^This ticket is unknown, used or expired/);
    expect(replay.message).not.toContain(ticket);
  });

  it('refuses a ticket for wall A used on wall B, and uses it up', async () => {
    const book = tickets();
    const { ticket } = await book.issue(tokenIdentity(), ['team-a']);
    const other = await refusal(book.redeem(ticket, ['team-a', 'team-b']));
    expect(other.reason).toBe('ticket_invalid');
    expect(other.message).toBe('This ticket is for team-a, not team-b: get one that names every wall of the stream.');
    expect((await refusal(book.redeem(ticket, ['team-a']))).reason).toBe('ticket_invalid');
  });

  it('refuses an expired ticket, and never lets a ticket outlive its token', async () => {
    const book = tickets(50);
    const { ticket } = await book.issue(tokenIdentity(), ['team-a']);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect((await refusal(book.redeem(ticket, ['team-a']))).reason).toBe('ticket_invalid');
    // Still in the book (60 s), but past its end by the redeeming instance's clock.
    const live = tickets();
    const late = await live.issue(tokenIdentity(), ['team-a']);
    expect((await refusal(live.redeem(late.ticket, ['team-a'], late.expiresAtMs))).reason).toBe('ticket_invalid');
    const soon = Date.now() + 5000;
    const short = await tickets().issue(tokenIdentity(soon), ['team-a']);
    expect(short.expiresAtMs).toBe(soon);
    expect(short.expiresInSeconds).toBeLessThanOrEqual(5);
  });

  it('refuses unknown and malformed tickets alike', async () => {
    for (const ticket of ['', 'short', 'A'.repeat(32), `${'A'.repeat(31)}!`, 'x'.repeat(10_000)]) {
      expect((await refusal(tickets().redeem(ticket, ['team-a']))).reason).toBe('ticket_invalid');
    }
  });

  it('issues only for walls the token may read: insufficient_scope naming every refused wall', async () => {
    const failure = await refusal(tickets().issue(tokenIdentity(), ['team-a', 'team-c', 'staff', 'public']));
    expect(failure.reason).toBe('insufficient_scope');
    expect(failure.message).toBe('This token cannot read walls team-c and staff.');
    // A wall anyone may read needs no grant.
    await tickets().issue(tokenIdentity(), ['public']);
  });

  it('does not exchange a ticket for another ticket', async () => {
    const book = tickets();
    const { ticket } = await book.issue(tokenIdentity(), ['team-a']);
    const identity = await book.redeem(ticket, ['team-a']);
    expect((await refusal(book.issue(identity, ['team-a']))).reason).toBe('ticket_invalid');
  });

  it('makes every ticket different (192 random bits)', async () => {
    const book = tickets();
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add((await book.issue(tokenIdentity(), ['team-a'])).ticket);
    expect(seen.size).toBe(200);
  });
});
