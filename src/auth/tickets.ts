/**
 * Stream tickets (issue 16, "How a token arrives"). A browser's EventSource
 * can send neither a header nor, from another origin, a cookie, and a token
 * in a URL ends up in logs. So `POST /api/tickets`, with a bearer token and
 * `{"walls":[…]}`, exchanges the token for a ticket passed as `?ticket=` on
 * a stream URL:
 *
 * - single use: redeeming takes it out of the book, atomically, so of two
 *   streams opened with one ticket at most one gets it;
 * - valid at most TICKET_TTL_MS (60 s), and never past its token's `exp`;
 * - it grants `read` of the walls it names and nothing else, and only
 *   walls the token may read (else `insufficient_scope` naming them);
 * - it carries the token's identity (`sub`, `name`) and expiry, so a stream
 *   opened with it is told to re-authenticate when the token would expire.
 *
 * Unknown, used and expired tickets all answer `ticket_invalid`, alike:
 * which it was is nothing a client can act on differently.
 *
 * The book is where tickets wait: in memory for one instance
 * (memory-ticket-book.ts), in Redis when instances share it, so a ticket
 * issued by one is redeemed by another (redis-ticket-book.ts).
 */
import { randomBytes } from 'node:crypto';
import type { AccessPolicy } from './access.js';
import { AuthFailure, listNames } from './auth-failure.js';
import type { Identity } from './identity.js';
import { WallPatterns } from './wall-patterns.js';

/** The longest a ticket lives (issue 16): long enough to open a stream, short enough to be useless if leaked. */
export const TICKET_TTL_MS = 60_000;

/** 192 random bits, 32 URL-safe characters: no guessing, and safe in a query string as it is. */
const TICKET_BYTES = 24;
const TICKET_SHAPE = /^[A-Za-z0-9_-]{32}$/;

/**
 * Walls one ticket may name: as many as one stream may follow (routes/events.ts
 * MAX_STREAM_WALLS), since a ticket opens one stream.
 */
export const MAX_TICKET_WALLS = 32;

/** What the book keeps for a ticket. */
export interface TicketRecord {
  sub: string;
  name: string;
  walls: string[];
  /** The token's `exp`, in ms: the stream's end. */
  tokenExpiresAtMs: number;
  /** The ticket's own end: at most TICKET_TTL_MS after issue, never past tokenExpiresAtMs. */
  expiresAtMs: number;
}

/**
 * Where tickets wait. Implementations differ only in where; both keep these
 * promises.
 */
export interface TicketBook {
  /** Keeps `record` under `id` until `record.expiresAtMs` at the latest. */
  put(id: string, record: TicketRecord): Promise<void>;
  /**
   * Removes the record under `id` and returns it, as one atomic step: of
   * several takes of one id, across instances, at most one gets the record.
   * Undefined when unknown, taken, or expired.
   */
  take(id: string): Promise<TicketRecord | undefined>;
}

export interface IssuedTicket {
  ticket: string;
  expiresAtMs: number;
  /** Whole seconds until it expires, rounded down: the response's `expiresIn`. */
  expiresInSeconds: number;
}

export interface TicketsOptions {
  /** How long a ticket lives, at most TICKET_TTL_MS (the default); tests shorten it. */
  ttlMs?: number;
}

export class Tickets {
  readonly ttlMs: number;

  constructor(
    private readonly book: TicketBook,
    private readonly access: AccessPolicy,
    options: TicketsOptions = {},
  ) {
    this.ttlMs = Math.min(options.ttlMs ?? TICKET_TTL_MS, TICKET_TTL_MS);
  }

  /**
   * A ticket for reading `walls` (valid wall names, 1 to MAX_TICKET_WALLS;
   * the route checks them) with the identity of a verified token. Throws
   * `insufficient_scope` naming the walls the token may not read.
   */
  async issue(identity: Identity, walls: readonly string[], nowMs = Date.now()): Promise<IssuedTicket> {
    if (identity.via === 'ticket') {
      throw new AuthFailure('ticket_invalid', 'A ticket cannot be exchanged for another ticket: use a token.');
    }
    const named = [...new Set(walls)];
    if (named.length === 0 || named.length > MAX_TICKET_WALLS) {
      throw new RangeError(`a ticket names 1 to ${MAX_TICKET_WALLS} walls, not ${named.length}`);
    }
    this.access.check(identity, 'read', named);
    const expiresAtMs = Math.min(nowMs + this.ttlMs, identity.expiresAtMs);
    const ticket = randomBytes(TICKET_BYTES).toString('base64url');
    await this.book.put(ticket, {
      sub: identity.sub,
      name: identity.name,
      walls: named,
      tokenExpiresAtMs: identity.expiresAtMs,
      expiresAtMs,
    });
    return { ticket, expiresAtMs, expiresInSeconds: Math.max(0, Math.floor((expiresAtMs - nowMs) / 1000)) };
  }

  /**
   * The identity a ticket carries, for a stream of `walls` (all of which the
   * ticket must name). The ticket is used up whether or not the walls fit.
   * Throws `ticket_invalid`.
   */
  async redeem(ticket: string, walls: readonly string[], nowMs = Date.now()): Promise<Identity> {
    const unknown = () =>
      new AuthFailure(
        'ticket_invalid',
        'This ticket is unknown, used or expired: a ticket opens one stream within 60 s; get a new one from POST /api/tickets.',
      );
    if (!TICKET_SHAPE.test(ticket)) throw unknown();
    const record = await this.book.take(ticket);
    if (record === undefined || record.expiresAtMs <= nowMs) throw unknown();
    const others = walls.filter((wall) => !record.walls.includes(wall));
    if (others.length > 0) {
      throw new AuthFailure(
        'ticket_invalid',
        `This ticket is for ${listNames(record.walls)}, not ${listNames(others)}: get one that names every wall of the stream.`,
      );
    }
    return {
      sub: record.sub,
      name: record.name,
      grants: { read: WallPatterns.exactly(record.walls), post: WallPatterns.none, moderate: WallPatterns.none },
      expiresAtMs: record.tokenExpiresAtMs,
      via: 'ticket',
    };
  }
}

/** A record read back from a shared store, checked field by field; undefined when it is not one. */
export function parseTicketRecord(json: string): TicketRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  const record = value as Partial<TicketRecord> | null;
  if (
    typeof record !== 'object' ||
    record === null ||
    typeof record.sub !== 'string' ||
    typeof record.name !== 'string' ||
    !Array.isArray(record.walls) ||
    !record.walls.every((wall) => typeof wall === 'string') ||
    typeof record.tokenExpiresAtMs !== 'number' ||
    typeof record.expiresAtMs !== 'number'
  ) {
    return undefined;
  }
  return record as TicketRecord;
}
