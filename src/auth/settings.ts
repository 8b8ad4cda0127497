/**
 * The settings of issue 16, as entries for config.ts's SETTINGS table: each
 * parser is `(raw, variable) → value`, `raw` undefined when the setting is
 * not given, and throws a plain Error whose message is one line naming the
 * variable (config.ts wraps it as a ConfigError). `checkAuthSettings` is the
 * cross-check of the values together, for loadConfig to call once all are
 * parsed.
 */
import { listNames } from './auth-failure.js';
import { type PublicKeyFile, readPublicKeyFile } from './public-key-file.js';
import { parseWallPatternList, WallPatternError, type WallPatterns } from './wall-patterns.js';

/** RFC 2104 / RFC 7518 §3.2: an HS256 key must be at least as long as the hash, 256 bits. */
export const MIN_SECRET_BYTES = 32;

export const DEFAULT_TOKEN_COOKIE = 'wallcast_token';

const setButEmpty = (variable: string) => new Error(`${variable} is set but empty: give it a value, or unset it`);

/**
 * WALLCAST_JWT_SECRET: its UTF-8 bytes, as a Buffer (so the start-up summary
 * shows it as `set`, never its value). Empty is refused, like every secret:
 * config.ts must pass `''` through for this parser, as it does for tokens.
 */
export function parseJwtSecret(raw: string | undefined, variable: string): Buffer | undefined {
  if (raw === undefined) return undefined;
  if (raw === '') throw setButEmpty(variable);
  const secret = Buffer.from(raw, 'utf8');
  if (secret.length < MIN_SECRET_BYTES) {
    throw new Error(
      `${variable} is ${secret.length} bytes; an HMAC secret needs at least ${MIN_SECRET_BYTES} (e.g. openssl rand -base64 32)`,
    );
  }
  return secret;
}

/** WALLCAST_JWT_PUBLIC_KEY: the file, read and checked now (a bad file stops the start). */
export function parseJwtPublicKey(raw: string | undefined, variable: string): PublicKeyFile | undefined {
  if (raw === undefined || raw === '') return undefined;
  try {
    return readPublicKeyFile(raw);
  } catch (error) {
    throw new Error(`${variable}=${(error as Error).message}`);
  }
}

/**
 * WALLCAST_JWKS_URL: HTTPS, or HTTP to a loopback host (a key set fetched
 * in the clear could be swapped on the way). No credentials in it: the URL
 * is logged.
 */
export function parseJwksUrl(raw: string | undefined, variable: string): URL | undefined {
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(
      `${variable}=${JSON.stringify(raw)} is not a URL (e.g. https://auth.example/.well-known/jwks.json)`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new Error(`${variable} must not carry a user or password: a JWK Set is public`);
  }
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new Error(
      `${variable}=${JSON.stringify(raw)} is plain HTTP to another host: use https:// (http:// only on loopback)`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`${variable}=${JSON.stringify(raw)} is not an https:// URL`);
  }
  return url;
}

/** `localhost`, 127.0.0.0/8 and ::1. */
function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** WALLCAST_JWT_ISSUER, WALLCAST_JWT_AUDIENCE: the exact `iss` / an `aud` tokens must carry. */
export function parseClaimValue(raw: string | undefined, variable: string): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (raw !== raw.trim() || /[\u0000-\u001f]/.test(raw)) {
    throw new Error(`${variable}=${JSON.stringify(raw)} has spaces around it or a control character`);
  }
  return raw;
}

/** WALLCAST_PRIVATE_WALLS, WALLCAST_OPEN_WALLS: comma-separated wall patterns, none by default. */
export function parseWallPatternsSetting(raw: string | undefined, variable: string): WallPatterns {
  try {
    return parseWallPatternList(raw ?? '');
  } catch (error) {
    if (!(error instanceof WallPatternError)) throw error;
    throw new Error(`${variable}: ${error.message}`);
  }
}

/** WALLCAST_TOKEN_COOKIE: a cookie name (RFC 6265 §4.1.1: an RFC 9110 token). */
export function parseTokenCookie(raw: string | undefined, variable: string): string {
  if (raw === undefined || raw === '') return DEFAULT_TOKEN_COOKIE;
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/.test(raw)) {
    throw new Error(`${variable}=${JSON.stringify(raw)} is not a cookie name (letters, digits and !#$%&'*+-.^_\`|~)`);
  }
  return raw;
}

/** Entries for config.ts's SETTINGS, in the shape of its `setting(variable, shown, meaning, parse)`. */
export const AUTH_SETTINGS = {
  jwtSecret: {
    variable: 'WALLCAST_JWT_SECRET',
    shown: 'unset',
    meaning: 'an HMAC secret (32 bytes or more) tokens are signed with (HS256/384/512); `wallcast token` signs with it',
    parse: parseJwtSecret,
  },
  jwtPublicKey: {
    variable: 'WALLCAST_JWT_PUBLIC_KEY',
    shown: 'unset',
    meaning: 'a PEM public key, JWK or JWK Set file tokens are verified with (RS256, PS256, ES256, EdDSA)',
    parse: parseJwtPublicKey,
  },
  jwksUrl: {
    variable: 'WALLCAST_JWKS_URL',
    shown: 'unset',
    meaning:
      'a JWK Set URL (HTTPS; HTTP on loopback only) tokens are verified with; fetched again for an unknown `kid`, at most every 30 s',
    parse: parseJwksUrl,
  },
  jwtIssuer: {
    variable: 'WALLCAST_JWT_ISSUER',
    shown: 'unset',
    meaning: 'when set, tokens must carry this `iss`',
    parse: parseClaimValue,
  },
  jwtAudience: {
    variable: 'WALLCAST_JWT_AUDIENCE',
    shown: 'unset',
    meaning: 'when set, tokens must carry this `aud`',
    parse: parseClaimValue,
  },
  privateWalls: {
    variable: 'WALLCAST_PRIVATE_WALLS',
    shown: 'none',
    meaning: 'walls only tokens with a `read` grant may read, e.g. `team-*,staff` (`*` is any run of name characters)',
    parse: parseWallPatternsSetting,
  },
  openWalls: {
    variable: 'WALLCAST_OPEN_WALLS',
    shown: 'none',
    meaning: 'with a key set, walls anyone may post to without a token, e.g. `main,guestbook-*`',
    parse: parseWallPatternsSetting,
  },
  tokenCookie: {
    variable: 'WALLCAST_TOKEN_COOKIE',
    shown: DEFAULT_TOKEN_COOKIE,
    meaning: 'the cookie a token may come in (set by your application: HttpOnly, Secure, SameSite)',
    parse: parseTokenCookie,
  },
} as const;

/** The auth settings as parsed, for the cross-check. */
export interface AuthSettingValues {
  jwtSecret: Uint8Array | undefined;
  jwtPublicKey: PublicKeyFile | undefined;
  jwksUrl: URL | undefined;
  jwtIssuer: string | undefined;
  jwtAudience: string | undefined;
  privateWalls: WallPatterns;
  openWalls: WallPatterns;
}

/**
 * The settings together: at most one key setting (two name both); and the
 * settings that mean nothing without a key are refused without one. Private
 * walls without a key could never be read by anyone; open walls, an issuer
 * or an audience without a key would silently do nothing.
 */
export function checkAuthSettings(values: AuthSettingValues): void {
  const keys = [
    ['WALLCAST_JWT_SECRET', values.jwtSecret],
    ['WALLCAST_JWT_PUBLIC_KEY', values.jwtPublicKey],
    ['WALLCAST_JWKS_URL', values.jwksUrl],
  ].flatMap(([variable, value]) => (value === undefined ? [] : [variable as string]));
  if (keys.length > 1) {
    throw new Error(`${listNames(keys)} are ${keys.length === 2 ? 'both' : 'all'} key settings: give one`);
  }
  if (keys.length === 1) return;
  const needKey = 'needs a key: set WALLCAST_JWT_SECRET, WALLCAST_JWT_PUBLIC_KEY or WALLCAST_JWKS_URL';
  if (!values.privateWalls.isEmpty) {
    throw new Error(`WALLCAST_PRIVATE_WALLS ${needKey} (without one, no token could ever read those walls)`);
  }
  for (const [variable, given] of [
    ['WALLCAST_OPEN_WALLS', !values.openWalls.isEmpty],
    ['WALLCAST_JWT_ISSUER', values.jwtIssuer !== undefined],
    ['WALLCAST_JWT_AUDIENCE', values.jwtAudience !== undefined],
  ] as const) {
    if (given) throw new Error(`${variable} ${needKey} (without one it has no effect)`);
  }
}
