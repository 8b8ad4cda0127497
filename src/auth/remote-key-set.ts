/**
 * `WALLCAST_JWKS_URL`: the verification keys, fetched from the issuer's JWK
 * Set and cached (issue 16, "Keys").
 *
 * Why not jose's `createRemoteJWKSet`: its cool-down counts from the last
 * *successful* fetch, so while the issuer is down every token with an
 * unknown `kid` fetches again (1,000 such requests, 1,000 fetches); and once
 * its cache max age passes with the issuer down, it throws for every token,
 * cached keys or not. It also reads any response size. So this is a small
 * cache of its own over jose's `createLocalJWKSet`, which picks the key:
 *
 * - A fetch is *attempted* at most once per `refetchIntervalMs` (30 s),
 *   whatever the traffic and whether it succeeds: the interval counts from
 *   the last attempt. Concurrent callers share one fetch in flight.
 * - A token whose `kid` is not in the set fetches the set again (when the
 *   interval allows), then tries once more: a new key is picked up.
 * - A set older than `maxAgeMs` is fetched again in the background on the
 *   next verification, so a key removed from the set is refused after that
 *   refresh even if no unknown `kid` ever comes.
 * - A failed fetch (refused, timed out, not 200, too large, not a JWK Set)
 *   keeps the cached keys and is logged.
 * - Nothing is fetched at construction: the first verification fetches, or
 *   `warmUp()` (called by main.ts once listening) does. An issuer that is
 *   down at start-up does not stop wallcast from starting; until a first
 *   fetch succeeds, verifications throw KeySetUnavailable (a 503, not a 401:
 *   the token may be fine).
 */
import { createLocalJWKSet, errors, type FlattenedJWSInput, type JWK, type JWSHeaderParameters } from 'jose';
import type { Logger } from 'pino';

/** Least time between two fetches of the set (issue 16: "at most once per 30 s whatever the traffic"). */
export const JWKS_REFETCH_INTERVAL_MS = 30_000;

/** Age after which the set is fetched again on the next verification (jose's own default cache age). */
export const JWKS_MAX_AGE_MS = 10 * 60_000;

/** A fetch that has not answered in full by then has failed. */
export const JWKS_TIMEOUT_MS = 5_000;

/**
 * Bytes of a JWK Set response. A set is a few KB (an RSA-4096 key is about
 * 800 bytes of JSON); this leaves room for hundreds of keys, and keeps a wrong
 * URL (an HTML page, a large file) from being read whole.
 */
export const MAX_JWKS_BYTES = 256 * 1024;

export interface RemoteKeySetOptions {
  /** Default JWKS_REFETCH_INTERVAL_MS (30 s). */
  refetchIntervalMs?: number;
  /** Default JWKS_MAX_AGE_MS (10 min). */
  maxAgeMs?: number;
  /** Default JWKS_TIMEOUT_MS (5 s). */
  timeoutMs?: number;
}

/** No key set has been fetched yet, so no token can be verified: the request may be retried. */
export class KeySetUnavailable extends Error {
  override name = 'KeySetUnavailable';
  /** When the next fetch may be tried. */
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds: number) {
    super(message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

type LocalKeySet = ReturnType<typeof createLocalJWKSet>;

export class RemoteKeySet {
  readonly refetchIntervalMs: number;
  readonly maxAgeMs: number;
  readonly timeoutMs: number;
  #local: LocalKeySet | undefined;
  #fetchedAtMs = Number.NEGATIVE_INFINITY;
  #attemptedAtMs = Number.NEGATIVE_INFINITY;
  #inFlight: Promise<void> | undefined;
  /** The URL as logs show it: no query, which might carry an API key. */
  readonly #shown: string;

  constructor(
    readonly url: URL,
    private readonly log: Logger,
    options: RemoteKeySetOptions = {},
  ) {
    this.refetchIntervalMs = options.refetchIntervalMs ?? JWKS_REFETCH_INTERVAL_MS;
    this.maxAgeMs = options.maxAgeMs ?? JWKS_MAX_AGE_MS;
    this.timeoutMs = options.timeoutMs ?? JWKS_TIMEOUT_MS;
    this.#shown = `${url.origin}${url.pathname}`;
  }

  /** The key resolver jose's `jwtVerify` calls with the token's header. */
  readonly getKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
    if (this.#local === undefined) await this.#refresh();
    const local = this.#local;
    if (local === undefined) {
      const waitMs = this.#attemptedAtMs + this.refetchIntervalMs - Date.now();
      throw new KeySetUnavailable(
        'The verification keys have not been fetched yet; try again shortly.',
        Math.max(1, Math.ceil(waitMs / 1000)),
      );
    }
    if (Date.now() - this.#fetchedAtMs >= this.maxAgeMs) void this.#refresh();
    try {
      return await local(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      await this.#refresh();
      const refreshed = this.#local;
      if (refreshed === undefined || refreshed === local) throw error;
      return await refreshed(header, token);
    }
  };

  /** Fetches the set now unless a fetch was tried within the interval; never throws (failures are logged). */
  async warmUp(): Promise<void> {
    await this.#refresh();
  }

  /** Joins the fetch in flight, or starts one if the interval allows; resolves either way. */
  #refresh(): Promise<void> {
    if (this.#inFlight !== undefined) return this.#inFlight;
    if (Date.now() - this.#attemptedAtMs < this.refetchIntervalMs) return Promise.resolve();
    this.#attemptedAtMs = Date.now();
    this.#inFlight = this.#fetch()
      .then((jwks) => {
        this.#local = createLocalJWKSet(jwks);
        this.#fetchedAtMs = Date.now();
        this.log.info({ jwksUrl: this.#shown, keys: jwks.keys.length }, 'fetched the JWK Set');
      })
      .catch((error: unknown) => {
        const kept = this.#local === undefined ? 'no keys yet' : 'keeping the cached keys';
        this.log.warn(
          { jwksUrl: this.#shown, err: (error as Error).message },
          `could not fetch the JWK Set (${kept}); next try in ${this.refetchIntervalMs / 1000} s at the earliest`,
        );
      })
      .finally(() => {
        this.#inFlight = undefined;
      });
    return this.#inFlight;
  }

  async #fetch(): Promise<{ keys: JWK[] }> {
    const response = await fetch(this.url, {
      signal: AbortSignal.timeout(this.timeoutMs),
      // A redirect could lead anywhere, plain HTTP included: configure the final URL.
      redirect: 'error',
      headers: { accept: 'application/jwk-set+json, application/json' },
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new Error(`it answered ${response.status}, not 200`);
    }
    const text = await readBounded(response, MAX_JWKS_BYTES);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error('the response is not JSON');
    }
    // createLocalJWKSet checks the shape; a set it refuses is a failed fetch like any other.
    createLocalJWKSet(json as { keys: JWK[] });
    return json as { keys: JWK[] };
  }
}

/** The body as text, refused once it passes `maxBytes` (by its Content-Length, or as it arrives). */
async function readBounded(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new Error(`the response is ${declared} bytes, more than ${maxBytes}`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  if (reader === undefined) return '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new Error(`the response is more than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
