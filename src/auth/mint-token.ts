/**
 * `wallcast token`: prints a token signed with WALLCAST_JWT_SECRET, so that
 * a person can try private walls in a minute (issue 16, "Also"):
 *
 *     wallcast token --sub u42 --name Ann --read 'team-*' --post 'team-*' --ttl 1h
 *
 * A tool for trying things and for tests, not an issuer: real applications
 * sign their own tokens. The token it prints passes the server's own checks
 * (the same claim rules), or it prints why not.
 */
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { AuthFailure } from './auth-failure.js';
import { identityFromClaims } from './claims.js';
import { parseClaimValue, parseJwtSecret } from './settings.js';
import { parseWallPattern, WallPatternError } from './wall-patterns.js';

/** The longest `--ttl`: a token printed for trying things should not outlive the trying by much. */
const MAX_TTL_SECONDS = 30 * 86_400;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

export const MINT_TOKEN_USAGE = `Usage: wallcast token --sub ID [options]

Prints a JWT signed (HS256) with WALLCAST_JWT_SECRET.

  --sub ID          who the token is for (1 to 255 characters); required
  --name NAME       the name people see (default: the sub)
  --read PATTERN    walls it may read: a name, or * for any run of name characters
  --post PATTERN    walls it may post to
  --moderate PATTERN walls it may moderate (implies read and post)
  --ttl DURATION    how long it is valid: 30s, 15m, 1h, 7d (default 1h, at most 30d)
  --issuer ISS      its "iss" (default: WALLCAST_JWT_ISSUER, if set)
  --audience AUD    its "aud" (default: WALLCAST_JWT_AUDIENCE, if set)

Each pattern flag may be given several times, or take a comma-separated list.
Example: wallcast token --sub u42 --name Ann --read 'team-*' --post 'team-*' --ttl 1h`;

type Env = Record<string, string | undefined>;

/** `argv` after `wallcast token`. Resolves to the token to print, or a one-line error. */
export async function mintToken(
  argv: readonly string[],
  env: Env,
  now = new Date(),
): Promise<{ output: string } | { error: string }> {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        sub: { type: 'string' },
        name: { type: 'string' },
        read: { type: 'string', multiple: true },
        post: { type: 'string', multiple: true },
        moderate: { type: 'string', multiple: true },
        ttl: { type: 'string' },
        issuer: { type: 'string' },
        audience: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return { error: `${(error as Error).message.split('\n')[0]} (see wallcast token --help)` };
  }
  if (values.help === true) return { output: MINT_TOKEN_USAGE };
  try {
    const secret = parseJwtSecret(env.WALLCAST_JWT_SECRET, 'WALLCAST_JWT_SECRET');
    if (secret === undefined) {
      return { error: 'WALLCAST_JWT_SECRET is not set: the token is signed with it (32 bytes or more)' };
    }
    if (typeof values.sub !== 'string') return { error: '--sub is required: who the token is for' };
    const ttlSeconds = parseTtl(typeof values.ttl === 'string' ? values.ttl : '1h');
    const grants: Record<string, string[]> = {};
    for (const action of ['read', 'post', 'moderate'] as const) {
      const patterns = ((values[action] as string[] | undefined) ?? []).flatMap((list) => list.split(','));
      for (const pattern of patterns) parseWallPattern(pattern.trim());
      if (patterns.length > 0) grants[action] = patterns.map((pattern) => pattern.trim());
    }
    const issuer = typeof values.issuer === 'string' ? values.issuer : env.WALLCAST_JWT_ISSUER || undefined;
    const audience = typeof values.audience === 'string' ? values.audience : env.WALLCAST_JWT_AUDIENCE || undefined;
    const nowSeconds = Math.floor(now.getTime() / 1000);
    const claims: Record<string, unknown> = {
      sub: values.sub,
      ...(typeof values.name === 'string' ? { name: values.name } : {}),
      wallcast: grants,
      exp: nowSeconds + ttlSeconds,
    };
    // The server's own rules, so that a token printed here is one it accepts.
    identityFromClaims(claims, 'bearer');
    const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt(nowSeconds);
    if (issuer !== undefined) jwt.setIssuer(parseClaimValue(issuer, '--issuer') ?? issuer);
    if (audience !== undefined) jwt.setAudience(parseClaimValue(audience, '--audience') ?? audience);
    return { output: await jwt.sign(secret) };
  } catch (error) {
    // The claim rules speak of "the token's claim"; here the claim is a flag.
    if (error instanceof AuthFailure)
      return { error: error.message.replace(/^The token's "(sub|name)" claim/, '--$1') };
    if (error instanceof WallPatternError || error instanceof Error) return { error: error.message };
    throw error;
  }
}

/** `30s`, `15m`, `1h`, `7d` → seconds, at most MAX_TTL_SECONDS. */
function parseTtl(raw: string): number {
  const match = /^(\d{1,7})(s|m|h|d)$/.exec(raw);
  const seconds = match === null ? Number.NaN : Number(match[1]) * (UNIT_SECONDS[match[2] ?? ''] ?? Number.NaN);
  if (!(seconds >= 1 && seconds <= MAX_TTL_SECONDS)) {
    throw new Error(`--ttl ${JSON.stringify(raw)} is not a duration from 1s to 30d (e.g. 30s, 15m, 1h, 7d)`);
  }
  return seconds;
}
