import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { AuthFailure } from '../../src/auth/auth-failure.js';
import { createAuth } from '../../src/auth/create-auth.js';
import { can } from '../../src/auth/identity.js';
import { mintToken } from '../../src/auth/mint-token.js';
import { parseJwtSecret } from '../../src/auth/settings.js';
import { WallPatterns } from '../../src/auth/wall-patterns.js';
import { createLogger } from '../../src/logger.js';
import { secretText } from '../support/jwt.js';

const env = { WALLCAST_JWT_SECRET: secretText(32) };

async function mint(argv: string[], environment: Record<string, string | undefined> = env): Promise<string> {
  const result = await mintToken(argv, environment);
  if ('error' in result) return expect.unreachable(result.error);
  return result.output;
}

async function mintError(argv: string[], environment: Record<string, string | undefined> = env): Promise<string> {
  const result = await mintToken(argv, environment);
  if ('output' in result) return expect.unreachable(`it printed ${result.output}`);
  expect(result.error).not.toContain('\n');
  return result.error;
}

const auth = (options: { issuer?: string; audience?: string } = {}) =>
  createAuth(
    {
      secret: parseJwtSecret(env.WALLCAST_JWT_SECRET, 'WALLCAST_JWT_SECRET'),
      privateWalls: WallPatterns.none,
      openWalls: WallPatterns.none,
      cookieName: 'c',
      ...options,
    },
    createLogger('silent'),
  );

describe('wallcast token', () => {
  it('prints an HS256 token the server accepts, with the grants asked for', async () => {
    const token = await mint([
      '--sub',
      'u42',
      '--name',
      'Ann',
      '--read',
      'team-*',
      '--post',
      'team-*,main',
      '--moderate',
      'x',
    ]);
    expect(decodeProtectedHeader(token).alg).toBe('HS256');
    const identity = await auth().identify({ via: 'bearer', token });
    expect(identity).toMatchObject({ sub: 'u42', name: 'Ann', via: 'bearer' });
    expect(can(identity!, 'read', 'team-a')).toBe(true);
    expect(can(identity!, 'post', 'main')).toBe(true);
    expect(can(identity!, 'moderate', 'x')).toBe(true);
    expect(can(identity!, 'post', 'other')).toBe(false);
  });

  it('makes it valid for --ttl, one hour by default', async () => {
    const now = Math.floor(Date.now() / 1000);
    const hour = decodeJwt(await mint(['--sub', 'u']));
    expect(hour.exp! - hour.iat!).toBe(3600);
    expect(Math.abs(hour.iat! - now)).toBeLessThanOrEqual(2);
    const week = decodeJwt(await mint(['--sub', 'u', '--ttl', '7d']));
    expect(week.exp! - week.iat!).toBe(7 * 86_400);
    expect(await mintError(['--sub', 'u', '--ttl', '31d'])).toMatch(/^--ttl "31d" is not a duration from 1s to 30d/);
    expect(await mintError(['--sub', 'u', '--ttl', 'forever'])).toMatch(/^--ttl "forever"/);
  });

  it('carries the issuer and audience the server expects, from flags or the environment', async () => {
    const withEnv = { ...env, WALLCAST_JWT_ISSUER: 'https://auth.example', WALLCAST_JWT_AUDIENCE: 'wallcast' };
    const token = await mint(['--sub', 'u'], withEnv);
    await auth({ issuer: 'https://auth.example', audience: 'wallcast' }).identify({ via: 'bearer', token });
    expect(decodeJwt(await mint(['--sub', 'u', '--issuer', 'other'], withEnv)).iss).toBe('other');
  });

  it('refuses clearly without a secret, with a short one, or with bad claims', async () => {
    expect(await mintError(['--sub', 'u'], {})).toBe(
      'WALLCAST_JWT_SECRET is not set: the token is signed with it (32 bytes or more)',
    );
    expect(await mintError(['--sub', 'u'], { WALLCAST_JWT_SECRET: 'short' })).toMatch(
      /^WALLCAST_JWT_SECRET is 5 bytes; an HMAC secret needs at least 32/,
    );
    expect(await mintError([])).toBe('--sub is required: who the token is for');
    expect(await mintError(['--sub', 'u', '--read', 'Team'])).toMatch(/^the wall pattern "Team" has "T"/);
    expect(await mintError(['--sub', 'u', '--name', 'n'.repeat(65)])).toBe('--name is longer than 64 characters.');
    expect(await mintError(['--sub', 'u', '--nope'])).toMatch(
      /^Unknown option '--nope'.*\(see wallcast token --help\)$/,
    );
    const help = await mintToken(['--help'], {});
    expect('output' in help && help.output).toMatch(/^Usage: wallcast token --sub ID/);
  });

  it('signs with the secret only: another server refuses the token', async () => {
    const token = await mint(['--sub', 'u'], { WALLCAST_JWT_SECRET: secretText(40) });
    await expect(auth().identify({ via: 'bearer', token })).rejects.toBeInstanceOf(AuthFailure);
  });
});
