/**
 * A token → an Identity, or an AuthFailure saying why not (issue 16, "Keys").
 * jose does all of the JWS work (parsing, algorithm checks, signature,
 * `exp`/`nbf`/`iss`/`aud`); this module chooses the options, adds the
 * bounds jose leaves to its caller (length, `iat` in the future), and turns
 * jose's errors into messages a developer can act on.
 *
 * Only the configured key's algorithms are accepted, named in jose's
 * `algorithms` option, so `alg: none` and an HMAC token "signed" with a
 * public key's PEM text are refused before any key is looked at.
 */
import {
  createLocalJWKSet,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyOptions,
  jwtVerify,
} from 'jose';
import { AuthFailure } from './auth-failure.js';
import { identityFromClaims } from './claims.js';
import type { Identity } from './identity.js';
import type { PublicKeyFile } from './public-key-file.js';
import { KeySetUnavailable, type RemoteKeySet } from './remote-key-set.js';

/**
 * The longest token read. Signed with RSA-4096, with a 255-character `sub`,
 * a 64-character name and 100 grant patterns, a token is 4.4 KB with
 * patterns of 20 characters and 7.1 KB with 40 (measured with jose); one
 * that needs more should use `*` patterns. Anything longer is refused before
 * it is parsed, so a 1 MB "token" costs nothing.
 */
export const MAX_TOKEN_CHARS = 8192;

/** Clock skew allowed between the issuer and wallcast, on `exp`, `nbf` and `iat` (issue 16). */
export const CLOCK_TOLERANCE_SECONDS = 30;

export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;

/** The one key setting given: a shared secret, a key file, or a JWK Set URL. */
export type VerificationKey =
  | { kind: 'secret'; secret: Uint8Array }
  | { kind: 'file'; file: PublicKeyFile }
  | { kind: 'jwks'; keySet: RemoteKeySet; algorithms: readonly string[] };

export interface TokenVerifierOptions {
  /** When set, `iss` must be this. */
  issuer?: string;
  /** When set, `aud` must be or contain this. */
  audience?: string;
}

type KeyInput = Parameters<typeof jwtVerify>[1];

export class TokenVerifier {
  readonly algorithms: readonly string[];
  readonly #key: KeyInput;
  readonly #options: JWTVerifyOptions;

  constructor(key: VerificationKey, options: TokenVerifierOptions = {}) {
    if (key.kind === 'secret') {
      this.algorithms = HMAC_ALGORITHMS;
      this.#key = key.secret;
    } else if (key.kind === 'file') {
      this.algorithms = key.file.algorithms;
      const [only] = key.file.keys;
      // One key: used whatever `kid` the token names. A set: jose picks by `kid`.
      this.#key =
        key.file.form === 'single' && only !== undefined
          ? only.jwk
          : createLocalJWKSet({ keys: key.file.keys.map((k) => k.jwk) });
    } else {
      this.algorithms = key.algorithms;
      this.#key = key.keySet.getKey;
    }
    this.#options = {
      algorithms: [...this.algorithms],
      issuer: options.issuer,
      audience: options.audience,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['exp'],
    };
  }

  /**
   * The token's identity; throws AuthFailure (`token_invalid`,
   * `token_expired`), or KeySetUnavailable while a JWK Set URL has never
   * answered.
   */
  async verify(token: string, via: 'bearer' | 'cookie', now = new Date()): Promise<Identity> {
    if (token.length > MAX_TOKEN_CHARS) {
      throw new AuthFailure(
        'token_invalid',
        `The token is ${token.length} characters long; the limit is ${MAX_TOKEN_CHARS}.`,
      );
    }
    let payload: JWTPayload;
    try {
      payload = await this.#verify(token, { ...this.#options, currentDate: now });
    } catch (error) {
      throw this.#failure(error, token, now);
    }
    const nowSeconds = now.getTime() / 1000;
    if (typeof payload.iat === 'number' && payload.iat > nowSeconds + CLOCK_TOLERANCE_SECONDS) {
      throw new AuthFailure(
        'token_invalid',
        `The token says it was issued at ${iso(payload.iat)}, in the future (it is now ${iso(nowSeconds)}): ` +
          "check the issuer's clock.",
      );
    }
    return identityFromClaims(payload, via);
  }

  async #verify(token: string, options: JWTVerifyOptions): Promise<JWTPayload> {
    try {
      return (await jwtVerify(token, this.#key, options)).payload;
    } catch (error) {
      // A token without `kid` and a set with several keys of its algorithm: try each (jose leaves this to us).
      if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
      for await (const key of error) {
        try {
          return (await jwtVerify(token, key, options)).payload;
        } catch (next) {
          if (!(next instanceof errors.JWSSignatureVerificationFailed)) throw next;
        }
      }
      throw new errors.JWSSignatureVerificationFailed();
    }
  }

  /** jose's error → the AuthFailure a developer can act on; anything unforeseen is rethrown (a bug, a 500). */
  #failure(error: unknown, token: string, now: Date): unknown {
    const invalid = (message: string) => new AuthFailure('token_invalid', message);
    if (error instanceof KeySetUnavailable || error instanceof AuthFailure) return error;
    if (error instanceof errors.JWTExpired) {
      const exp = error.payload.exp as number;
      return new AuthFailure(
        'token_expired',
        `The token expired at ${iso(exp)} (it is now ${iso(now.getTime() / 1000)}); get a fresh one.`,
      );
    }
    if (error instanceof errors.JWTClaimValidationFailed) {
      const { claim, reason, payload } = error;
      if (reason === 'missing') return invalid(`The token has no "${claim}" claim, which this server requires.`);
      if (reason === 'invalid') return invalid(`The token's "${claim}" claim must be a number (seconds since 1970).`);
      if (claim === 'nbf') {
        return new AuthFailure(
          'token_expired',
          `The token is not valid before ${iso(payload.nbf as number)} (it is now ${iso(now.getTime() / 1000)}).`,
        );
      }
      if (claim === 'iss') return invalid(`The token's issuer ("iss") is not ${JSON.stringify(this.#options.issuer)}.`);
      if (claim === 'aud') {
        return invalid(`The token's audience ("aud") does not include ${JSON.stringify(this.#options.audience)}.`);
      }
      return invalid(`The token's "${claim}" claim is not accepted.`);
    }
    if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
      return invalid(
        `The token is signed with ${algorithmOf(token)}; this server accepts ${this.algorithms.join(', ')} only.`,
      );
    }
    if (error instanceof errors.JWSSignatureVerificationFailed) {
      return invalid("The token's signature does not verify with this server's key.");
    }
    if (error instanceof errors.JWKSNoMatchingKey) {
      const kid = shownKid(token);
      return invalid(`No key of this server has the token's key id${kid === undefined ? '' : ` (${kid})`}.`);
    }
    if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
      return invalid(`The token is malformed: ${error.message}.`);
    }
    // jose's TypeErrors are about the key: one of the set that cannot verify this algorithm (a short RSA key, say).
    if (error instanceof TypeError || error instanceof errors.JWKSInvalid) {
      return invalid(`The key this token names cannot verify it: ${error.message}.`);
    }
    return error;
  }
}

/** Seconds since 1970 → ISO 8601. */
function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

/** The header's `alg` for a message: shown only when it looks like an algorithm name. */
function algorithmOf(token: string): string {
  try {
    const { alg } = decodeProtectedHeader(token);
    return typeof alg === 'string' && /^[A-Za-z0-9-]{1,16}$/.test(alg) ? alg : 'an unknown algorithm';
  } catch {
    return 'an unknown algorithm';
  }
}

function shownKid(token: string): string | undefined {
  try {
    const { kid } = decodeProtectedHeader(token);
    return typeof kid === 'string' && /^[\x21-\x7e]{1,64}$/.test(kid) ? JSON.stringify(kid) : undefined;
  } catch {
    return undefined;
  }
}
