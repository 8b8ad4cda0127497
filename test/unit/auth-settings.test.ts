import { generateKeyPairSync } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createAuth } from '../../src/auth/create-auth.js';
import {
  AUTH_SETTINGS,
  type AuthSettingValues,
  checkAuthSettings,
  parseClaimValue,
  parseJwksUrl,
  parseJwtPublicKey,
  parseJwtSecret,
  parseTokenCookie,
  parseWallPatternsSetting,
} from '../../src/auth/settings.js';
import { WallPatterns } from '../../src/auth/wall-patterns.js';
import { createLogger } from '../../src/logger.js';
import { keyFiles, keyPair } from '../support/jwt.js';

const files = keyFiles();
afterAll(() => files.remove());

/** The one-line message `run` throws. */
function message(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    const text = (error as Error).message;
    expect(text).not.toContain('\n');
    return text;
  }
  return expect.unreachable('it did not throw');
}

describe('auth settings', () => {
  it('takes an HMAC secret of 32 bytes or more, refusing a short or empty one by its name', () => {
    expect(parseJwtSecret(undefined, 'V')).toBeUndefined();
    expect(Buffer.isBuffer(parseJwtSecret('x'.repeat(32), 'V'))).toBe(true);
    expect(parseJwtSecret('é'.repeat(16), 'V')).toHaveLength(32);
    expect(message(() => parseJwtSecret('x'.repeat(31), 'WALLCAST_JWT_SECRET'))).toBe(
      'WALLCAST_JWT_SECRET is 31 bytes; an HMAC secret needs at least 32 (e.g. openssl rand -base64 32)',
    );
    expect(message(() => parseJwtSecret('', 'WALLCAST_JWT_SECRET'))).toMatch(/^WALLCAST_JWT_SECRET is set but empty/);
  });

  it('reads a public key file at start: PEM, JWK or JWK Set, and says what is wrong with a bad one', async () => {
    const pair = await keyPair('ES256');
    const pem = parseJwtPublicKey(files.write(pair.pem), 'V');
    expect(pem?.algorithms).toEqual(['ES256']);
    expect(String(JSON.stringify({ key: pem }))).toMatch(/"key":".*key-\d+ \(ES256\)"/);
    const rsa = await keyPair('RS256');
    expect(parseJwtPublicKey(files.write(JSON.stringify({ keys: [pair.jwk, rsa.jwk] })), 'V')?.algorithms).toEqual([
      'ES256',
      'RS256',
    ]);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const cases: [string, RegExp][] = [
      ['not a key', /is not a usable public key: give a PEM public key/],
      [privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, /this is a private key: give the public key/],
      [JSON.stringify(privateKey.export({ format: 'jwk' })), /this JWK is a private key/],
      ['-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----', /this is a certificate/],
      ['-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----', /the PEM does not parse/],
      [weak.publicKey.export({ type: 'spki', format: 'pem' }) as string, /an RSA key of 1024 bits: use 2048 or more/],
      [p384.publicKey.export({ type: 'spki', format: 'pem' }) as string, /an EC key on secp384r1: use P-256/],
      [JSON.stringify({ kty: 'oct', k: 'c2VjcmV0' }), /a shared secret: use WALLCAST_JWT_SECRET/],
      [JSON.stringify({ ...pair.jwk, alg: 'RS256' }), /its "alg" is "RS256"; this key can be used with ES256/],
      [JSON.stringify({ ...pair.jwk, use: 'enc' }), /its "use" is "enc", not "sig"/],
      [JSON.stringify({ keys: [] }), /the JWK Set has no keys/],
      [JSON.stringify({ keys: [pair.jwk, { kty: 'EC' }] }), /key 2 of the set: the JWK does not parse/],
      ['{"nope": 1}', /neither a JWK .* nor a JWK Set/],
      ['{broken', /starts like JSON but is not JSON/],
    ];
    for (const [content, expected] of cases) {
      const path = files.write(content);
      expect(
        message(() => parseJwtPublicKey(path, 'WALLCAST_JWT_PUBLIC_KEY')),
        content.slice(0, 30),
      ).toMatch(
        new RegExp(
          `^WALLCAST_JWT_PUBLIC_KEY=${JSON.stringify(path).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} .*${expected.source}`,
        ),
      );
    }
    expect(message(() => parseJwtPublicKey('/no/such/file', 'V'))).toBe(
      'V="/no/such/file" cannot be read as a key file (ENOENT)',
    );
  });

  it('takes a JWK Set URL over HTTPS, or HTTP to loopback only, without credentials', () => {
    expect(parseJwksUrl('https://auth.example/jwks.json', 'V')?.href).toBe('https://auth.example/jwks.json');
    expect(parseJwksUrl('http://127.0.0.1:9000/jwks', 'V')?.host).toBe('127.0.0.1:9000');
    expect(parseJwksUrl('http://localhost/jwks', 'V')).toBeDefined();
    expect(parseJwksUrl('http://[::1]:80/jwks', 'V')).toBeDefined();
    expect(message(() => parseJwksUrl('http://auth.example/jwks', 'WALLCAST_JWKS_URL'))).toMatch(
      /^WALLCAST_JWKS_URL="http:\/\/auth.example\/jwks" is plain HTTP to another host/,
    );
    expect(message(() => parseJwksUrl('ftp://x/jwks', 'V'))).toMatch(/^V="ftp:\/\/x\/jwks" is not an https:\/\/ URL/);
    expect(message(() => parseJwksUrl('nope', 'V'))).toMatch(/^V="nope" is not a URL/);
    expect(message(() => parseJwksUrl('https://u:p@auth.example/', 'V'))).toMatch(
      /^V must not carry a user or password/,
    );
  });

  it('takes issuer, audience, wall patterns and the cookie name, naming the variable when bad', () => {
    expect(parseClaimValue('https://auth.example', 'V')).toBe('https://auth.example');
    expect(message(() => parseClaimValue(' x', 'WALLCAST_JWT_ISSUER'))).toMatch(/^WALLCAST_JWT_ISSUER=" x" has spaces/);
    expect(parseWallPatternsSetting(undefined, 'V').isEmpty).toBe(true);
    expect(parseWallPatternsSetting('team-*, staff', 'V').toString()).toBe('team-*,staff');
    expect(message(() => parseWallPatternsSetting('team-*,Staff', 'WALLCAST_PRIVATE_WALLS'))).toMatch(
      /^WALLCAST_PRIVATE_WALLS: the wall pattern "Staff" has "S", which no wall name has/,
    );
    expect(parseTokenCookie(undefined, 'V')).toBe('wallcast_token');
    expect(parseTokenCookie('__Host-wc', 'V')).toBe('__Host-wc');
    expect(message(() => parseTokenCookie('a;b', 'WALLCAST_TOKEN_COOKIE'))).toMatch(
      /^WALLCAST_TOKEN_COOKIE="a;b" is not a cookie name/,
    );
  });

  it('offers one table entry per setting, each naming its variable', () => {
    expect(Object.values(AUTH_SETTINGS).map((entry) => entry.variable)).toEqual([
      'WALLCAST_JWT_SECRET',
      'WALLCAST_JWT_PUBLIC_KEY',
      'WALLCAST_JWKS_URL',
      'WALLCAST_JWT_ISSUER',
      'WALLCAST_JWT_AUDIENCE',
      'WALLCAST_PRIVATE_WALLS',
      'WALLCAST_OPEN_WALLS',
      'WALLCAST_TOKEN_COOKIE',
    ]);
  });

  it('allows one key setting at most, naming both when two are given, and refuses settings that need a key', async () => {
    const none: AuthSettingValues = {
      jwtSecret: undefined,
      jwtPublicKey: undefined,
      jwksUrl: undefined,
      jwtIssuer: undefined,
      jwtAudience: undefined,
      privateWalls: WallPatterns.none,
      openWalls: WallPatterns.none,
    };
    const secret = Buffer.alloc(32, 1);
    const jwksUrl = new URL('https://auth.example/jwks');
    const jwtPublicKey = parseJwtPublicKey(files.write((await keyPair('ES256')).pem), 'V');
    checkAuthSettings(none);
    checkAuthSettings({ ...none, jwtSecret: secret, privateWalls: WallPatterns.exactly(['a']), jwtIssuer: 'i' });
    expect(message(() => checkAuthSettings({ ...none, jwtSecret: secret, jwksUrl }))).toBe(
      'WALLCAST_JWT_SECRET and WALLCAST_JWKS_URL are both key settings: give one',
    );
    expect(message(() => checkAuthSettings({ ...none, jwtSecret: secret, jwtPublicKey, jwksUrl }))).toBe(
      'WALLCAST_JWT_SECRET, WALLCAST_JWT_PUBLIC_KEY and WALLCAST_JWKS_URL are all key settings: give one',
    );
    expect(message(() => checkAuthSettings({ ...none, privateWalls: WallPatterns.exactly(['a']) }))).toMatch(
      /^WALLCAST_PRIVATE_WALLS needs a key: set WALLCAST_JWT_SECRET, WALLCAST_JWT_PUBLIC_KEY or WALLCAST_JWKS_URL/,
    );
    expect(message(() => checkAuthSettings({ ...none, openWalls: WallPatterns.exactly(['a']) }))).toMatch(
      /^WALLCAST_OPEN_WALLS needs a key/,
    );
    expect(message(() => checkAuthSettings({ ...none, jwtAudience: 'a' }))).toMatch(
      /^WALLCAST_JWT_AUDIENCE needs a key/,
    );
    const options = { privateWalls: WallPatterns.none, openWalls: WallPatterns.none, cookieName: 'c' };
    expect(() => createAuth({ ...options, secret, jwksUrl }, createLogger('silent'))).toThrow(/are both key settings/);
    expect(createAuth(options, createLogger('silent')).keyConfigured).toBe(false);
  });
});
