/**
 * The auth settings → one Auth: the verifier of the configured key, the
 * access policy and the tickets, for the composition root (main.ts) to
 * build once and hand to the routes. Nothing here reads a request: the
 * routes read credentials (http/credentials.ts) and ask Auth who it is and
 * whether it may.
 */
import type { Logger } from 'pino';
import { AccessPolicy } from './access.js';
import { AuthFailure } from './auth-failure.js';
import type { Action, Credential, Identity } from './identity.js';
import { MemoryTicketBook } from './memory-ticket-book.js';
import { PUBLIC_KEY_ALGORITHMS, type PublicKeyFile } from './public-key-file.js';
import { KeySetUnavailable, RemoteKeySet, type RemoteKeySetOptions } from './remote-key-set.js';
import { checkAuthSettings } from './settings.js';
import { type IssuedTicket, type TicketBook, Tickets } from './tickets.js';
import { TokenVerifier, type VerificationKey } from './token-verifier.js';
import type { WallPatterns } from './wall-patterns.js';

export interface AuthOptions {
  /** WALLCAST_JWT_SECRET (parseJwtSecret). */
  secret?: Uint8Array;
  /** WALLCAST_JWT_PUBLIC_KEY (parseJwtPublicKey: the file, already read and checked). */
  publicKeyFile?: PublicKeyFile;
  /** WALLCAST_JWKS_URL (parseJwksUrl). */
  jwksUrl?: URL;
  /** WALLCAST_JWT_ISSUER. */
  issuer?: string;
  /** WALLCAST_JWT_AUDIENCE. */
  audience?: string;
  /** WALLCAST_PRIVATE_WALLS. */
  privateWalls: WallPatterns;
  /** WALLCAST_OPEN_WALLS. */
  openWalls: WallPatterns;
  /** WALLCAST_TOKEN_COOKIE, default `wallcast_token`. */
  cookieName: string;
  /** Where tickets wait: a RedisTicketBook when instances share Redis; default a MemoryTicketBook. */
  ticketBook?: TicketBook;
  /** The JWK Set cache's timings (defaults: 30 s between fetches, 10 min age, 5 s timeout); tests shorten them. */
  jwks?: RemoteKeySetOptions;
  /** A ticket's life, at most and by default 60 s; tests shorten it. */
  ticketTtlMs?: number;
}

export class Auth {
  readonly access: AccessPolicy;
  readonly tickets: Tickets;
  readonly cookieName: string;

  constructor(
    /** Undefined without a key setting: then no token is accepted, and nothing changes from before issue 16. */
    readonly verifier: TokenVerifier | undefined,
    readonly keySet: RemoteKeySet | undefined,
    options: AuthOptions,
  ) {
    this.cookieName = options.cookieName;
    this.access = new AccessPolicy({
      keyConfigured: verifier !== undefined,
      privateWalls: options.privateWalls,
      openWalls: options.openWalls,
    });
    this.tickets = new Tickets(options.ticketBook ?? new MemoryTicketBook(), this.access, {
      ttlMs: options.ticketTtlMs,
    });
  }

  get keyConfigured(): boolean {
    return this.verifier !== undefined;
  }

  /**
   * The one call a route makes: who the request is (undefined: anonymous),
   * once it is known that it may `action` every wall of `walls`. A ticket
   * is redeemed (used up) for a stream of exactly those walls. Throws the
   * AuthFailure that says why not (or KeySetUnavailable, a 503, while a JWK
   * Set URL has never answered).
   *
   * A token that fails verification is refused even where no token is
   * needed (RFC 6750 §3.1: a client that sent one wants to know), except a
   * cookie's: a cookie is sent by the browser unasked, and a stale one must
   * not lock its user out of walls anyone may read or post to. Nor must a
   * cookie that cannot be checked yet (a JWK Set URL that has never
   * answered): there it is no token, not a 503.
   */
  async authorize(
    credential: Credential | undefined,
    action: Action,
    walls: readonly string[],
  ): Promise<Identity | undefined> {
    let identity: Identity | undefined;
    try {
      identity = await this.identify(credential, walls);
    } catch (error) {
      const needed = walls.some((wall) => this.access.needsIdentity(action, wall));
      const unverified = error instanceof AuthFailure || error instanceof KeySetUnavailable;
      if (!unverified || credential?.via !== 'cookie' || needed) throw error;
      identity = undefined;
    }
    this.access.check(identity, action, walls);
    return identity;
  }

  /**
   * Who the credential says the request is, without a policy check:
   * undefined without a credential, and without a key setting (then no
   * credential is read at all, as before issue 16). A token is verified; a
   * ticket is redeemed (used up) for a stream of `walls`.
   */
  async identify(credential: Credential | undefined, walls: readonly string[] = []): Promise<Identity | undefined> {
    if (credential === undefined || this.verifier === undefined) return undefined;
    if (credential.via === 'ticket') return this.tickets.redeem(credential.ticket, walls);
    return this.verifier.verify(credential.token, credential.via);
  }

  /** `POST /api/tickets`: a ticket for reading `walls` with a verified token's identity. */
  issueTicket(identity: Identity, walls: readonly string[]): Promise<IssuedTicket> {
    return this.tickets.issue(identity, walls);
  }

  /** Fetches a JWK Set URL's keys now, so the first request does not wait; never throws (failures are logged). */
  async warmUp(): Promise<void> {
    await this.keySet?.warmUp();
  }
}

/** Builds the Auth of the settings (checked together again here: at most one key). */
export function createAuth(options: AuthOptions, log: Logger): Auth {
  checkAuthSettings({
    jwtSecret: options.secret,
    jwtPublicKey: options.publicKeyFile,
    jwksUrl: options.jwksUrl,
    jwtIssuer: options.issuer,
    jwtAudience: options.audience,
    privateWalls: options.privateWalls,
    openWalls: options.openWalls,
  });
  let key: VerificationKey | undefined;
  let keySet: RemoteKeySet | undefined;
  if (options.secret !== undefined) key = { kind: 'secret', secret: options.secret };
  if (options.publicKeyFile !== undefined) key = { kind: 'file', file: options.publicKeyFile };
  if (options.jwksUrl !== undefined) {
    keySet = new RemoteKeySet(options.jwksUrl, log.child({ component: 'jwks' }), options.jwks);
    key = { kind: 'jwks', keySet, algorithms: PUBLIC_KEY_ALGORITHMS };
  }
  const verifier =
    key === undefined ? undefined : new TokenVerifier(key, { issuer: options.issuer, audience: options.audience });
  return new Auth(verifier, keySet, options);
}
