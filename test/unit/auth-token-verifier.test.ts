import { CompactSign } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { AuthFailure } from '../../src/auth/auth-failure.js';
import { MAX_GRANT_PATTERNS } from '../../src/auth/claims.js';
import { can } from '../../src/auth/identity.js';
import { parseJwtPublicKey, parseJwtSecret } from '../../src/auth/settings.js';
import { MAX_TOKEN_CHARS, TokenVerifier } from '../../src/auth/token-verifier.js';
import { within } from '../support/deadlines.js';
import {
  type Algorithm,
  asAlgorithm,
  claims,
  keyFiles,
  keyPair,
  nowSeconds,
  secretText,
  signHmac,
  signWith,
  unsigned,
} from '../support/jwt.js';

const files = keyFiles();
afterAll(() => files.remove());

const secret = secretText(32);
const hmacVerifier = (options: { issuer?: string; audience?: string } = {}) =>
  new TokenVerifier({ kind: 'secret', secret: parseJwtSecret(secret, 'WALLCAST_JWT_SECRET')! }, options);
const fileVerifier = (content: string) =>
  new TokenVerifier({ kind: 'file', file: parseJwtPublicKey(files.write(content), 'WALLCAST_JWT_PUBLIC_KEY')! });

/** The AuthFailure `verify` rejects with (fails the test if it resolves). */
async function refusal(verifier: TokenVerifier, token: string, now?: Date): Promise<AuthFailure> {
  const error = await within('verify', 5000, verifier.verify(token, 'bearer', now)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the token was accepted').toBeInstanceOf(AuthFailure);
  return error as AuthFailure;
}

describe('token verification with an HMAC secret', () => {
  it('accepts HS256, HS384 and HS512 tokens signed with the secret, as an identity', async () => {
    for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
      const token = await signHmac(
        claims({ name: 'Ann', wallcast: { read: ['team-*'], post: ['main'] } }),
        secret,
        alg,
      );
      const identity = await within('verify', 5000, hmacVerifier().verify(token, 'cookie'));
      expect(identity).toMatchObject({ sub: 'u42', name: 'Ann', via: 'cookie' });
      expect(can(identity, 'read', 'team-a')).toBe(true);
      expect(can(identity, 'post', 'team-a')).toBe(false);
      expect(can(identity, 'post', 'main')).toBe(true);
    }
  });

  it('refuses a token signed with another secret: bad signature', async () => {
    const failure = await refusal(hmacVerifier(), await signHmac(claims(), secretText(40)));
    expect(failure.reason).toBe('token_invalid');
    expect(failure.message).toBe("The token's signature does not verify with this server's key.");
  });

  it('refuses alg "none": wrong algorithm', async () => {
    const failure = await refusal(hmacVerifier(), unsigned(claims()));
    expect(failure.reason).toBe('token_invalid');
    expect(failure.message).toBe('The token is signed with none; this server accepts HS256, HS384, HS512 only.');
  });

  it('refuses a token signed with a public-key algorithm', async () => {
    const pair = await keyPair('ES256');
    const failure = await refusal(hmacVerifier(), await signWith(pair, claims()));
    expect(failure.message).toMatch(/^The token is signed with ES256; this server accepts HS256/);
  });

  it('refuses malformed tokens without echoing them', async () => {
    for (const token of ['', 'abc', 'a.b.c', 'eyJhbGciOiJIUzI1NiJ9.!!!.sig', 'x'.repeat(100)]) {
      const failure = await refusal(hmacVerifier(), token);
      expect(failure.reason, token).toBe('token_invalid');
      if (token.length > 3) expect(failure.message).not.toContain(token);
    }
  });

  it('refuses a 16 KB token by its length alone, before any parsing, even a validly signed one', async () => {
    const huge = await signHmac(claims({ padding: 'p'.repeat(16 * 1024) }), secret);
    const failure = await refusal(hmacVerifier(), huge);
    expect(failure.message).toBe(`The token is ${huge.length} characters long; the limit is ${MAX_TOKEN_CHARS}.`);
    const garbage = '%'.repeat(16 * 1024);
    expect((await refusal(hmacVerifier(), garbage)).message).toMatch(/characters long; the limit is 8192/);
  });

  it('refuses an exp that is no finite time (JSON 1e400 is Infinity): no token lives for ever', async () => {
    const payload = new TextEncoder().encode(`{"sub":"u42","exp":1e400,"iat":${nowSeconds()}}`);
    const token = await new CompactSign(payload)
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(secret));
    const failure = await refusal(hmacVerifier(), token);
    expect(failure.reason).toBe('token_invalid');
  });

  it('requires exp, and says when a token expired, allowing 30 s of clock skew', async () => {
    expect((await refusal(hmacVerifier(), await signHmac(claims({ exp: undefined }), secret))).message).toBe(
      'The token has no "exp" claim, which this server requires.',
    );
    const exp = nowSeconds() - 20;
    await hmacVerifier().verify(await signHmac(claims({ exp }), secret), 'bearer');
    const expired = await refusal(hmacVerifier(), await signHmac(claims({ exp: nowSeconds() - 40 }), secret));
    expect(expired.reason).toBe('token_expired');
    expect(expired.message).toMatch(
      /^The token expired at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z \(it is now .*\); get a fresh one\.$/,
    );
  });

  it('honours nbf (token_expired, saying from when) and iat (not in the future), with 30 s of skew', async () => {
    await hmacVerifier().verify(await signHmac(claims({ nbf: nowSeconds() + 20 }), secret), 'bearer');
    const nbf = nowSeconds() + 120;
    const early = await refusal(hmacVerifier(), await signHmac(claims({ nbf }), secret));
    expect(early.reason).toBe('token_expired');
    expect(early.message).toContain(`not valid before ${new Date(nbf * 1000).toISOString()}`);
    await hmacVerifier().verify(await signHmac(claims({ iat: nowSeconds() + 20 }), secret), 'bearer');
    const future = await refusal(hmacVerifier(), await signHmac(claims({ iat: nowSeconds() + 120 }), secret));
    expect(future.reason).toBe('token_invalid');
    expect(future.message).toMatch(/issued at .*, in the future/);
    const stringExp = await refusal(hmacVerifier(), await signHmac(claims({ exp: 'tomorrow' }), secret));
    expect(stringExp.message).toBe('The token\'s "exp" claim must be a number (seconds since 1970).');
  });

  it('checks iss and aud when configured', async () => {
    const verifier = hmacVerifier({ issuer: 'https://auth.example', audience: 'wallcast' });
    await verifier.verify(
      await signHmac(claims({ iss: 'https://auth.example', aud: ['x', 'wallcast'] }), secret),
      'bearer',
    );
    const wrongIssuer = await refusal(
      verifier,
      await signHmac(claims({ iss: 'https://evil.example', aud: 'wallcast' }), secret),
    );
    expect(wrongIssuer.message).toBe('The token\'s issuer ("iss") is not "https://auth.example".');
    const wrongAudience = await refusal(
      verifier,
      await signHmac(claims({ iss: 'https://auth.example', aud: 'other' }), secret),
    );
    expect(wrongAudience.message).toBe('The token\'s audience ("aud") does not include "wallcast".');
    const noAudience = await refusal(verifier, await signHmac(claims({ iss: 'https://auth.example' }), secret));
    expect(noAudience.message).toBe('The token has no "aud" claim, which this server requires.');
  });
});

describe('claims', () => {
  const verify = async (extra: Record<string, unknown>) =>
    hmacVerifier().verify(await signHmac(claims(extra), secret), 'bearer');
  const message = async (extra: Record<string, unknown>) =>
    (await refusal(hmacVerifier(), await signHmac(claims(extra), secret))).message;

  it('takes sub of 1 to 255 characters, and shows it as the name when there is none', async () => {
    expect((await verify({ sub: 'x'.repeat(255) })).sub).toHaveLength(255);
    expect((await verify({ sub: 'u7' })).name).toBe('u7');
    expect((await verify({ sub: 'y'.repeat(200) })).name).toBe('y'.repeat(64));
    expect(await message({ sub: undefined })).toMatch(/^The token has no "sub" claim/);
    expect(await message({ sub: '' })).toMatch(/"sub" claim must be text of 1 to 255/);
    expect(await message({ sub: 'x'.repeat(256) })).toMatch(/"sub" claim must be text of 1 to 255/);
    expect(await message({ sub: 42 })).toMatch(/"sub" claim must be text/);
    expect(await message({ sub: 'a\nb' })).toMatch(/"sub" claim contains a control character/);
  });

  it("validates name like a post's author: trimmed, one line, at most 64 characters", async () => {
    expect((await verify({ name: '  Ann ' })).name).toBe('Ann');
    expect((await verify({ name: '' })).name).toBe('');
    expect((await verify({ name: '😀'.repeat(64) })).name).toBe('😀'.repeat(64));
    expect(await message({ name: 'a'.repeat(65) })).toBe('The token\'s "name" claim is longer than 64 characters.');
    expect(await message({ name: 'Ann\u0007' })).toBe('The token\'s "name" claim contains a control character.');
    expect(await message({ name: 7 })).toBe('The token\'s "name" claim must be text.');
  });

  it('reads the wallcast claim: moderate implies read and post; absent grants nothing', async () => {
    const moderator = await verify({ wallcast: { moderate: ['ops-*'] } });
    for (const action of ['read', 'post', 'moderate'] as const) expect(can(moderator, action, 'ops-1')).toBe(true);
    expect(can(moderator, 'read', 'ops')).toBe(false);
    const nobody = await verify({});
    for (const action of ['read', 'post', 'moderate'] as const) expect(can(nobody, action, 'main')).toBe(false);
    const reader = await verify({ wallcast: { read: ['*'], future: 'ignored' } });
    expect(can(reader, 'read', 'anything')).toBe(true);
    expect(can(reader, 'moderate', 'anything')).toBe(false);
  });

  it(`refuses more than ${MAX_GRANT_PATTERNS} patterns in all, and bad grant shapes or patterns`, async () => {
    const fifty = Array.from({ length: 50 }, (_, i) => `w${i}`);
    await verify({ wallcast: { read: fifty, post: fifty } });
    expect(await message({ wallcast: { read: fifty, post: fifty, moderate: ['x'] } })).toBe(
      'The token grants 101 wall patterns; at most 100 are allowed (use * patterns).',
    );
    expect(await message({ wallcast: ['read'] })).toMatch(/"wallcast" claim must be an object/);
    expect(await message({ wallcast: { read: 'team-*' } })).toMatch(/"wallcast.read" claim must be a list/);
    expect(await message({ wallcast: { post: [1] } })).toMatch(/"wallcast.post" claim must be a list/);
    expect(await message({ wallcast: { read: ['Team'] } })).toMatch(
      /^The token's "wallcast.read" claim has a bad pattern: the wall pattern "Team" has "T"/,
    );
  });
});

describe('token verification with a public key file', () => {
  const algorithms: Algorithm[] = ['RS256', 'PS256', 'ES256', 'EdDSA'];

  it.each(algorithms)('accepts %s tokens with the key as PEM, as JWK and in a JWK Set', async (alg) => {
    const pair = await keyPair(alg);
    const token = await signWith(pair, claims());
    for (const content of [pair.pem, JSON.stringify(pair.jwk), JSON.stringify({ keys: [pair.jwk] })]) {
      expect((await within('verify', 5000, fileVerifier(content).verify(token, 'bearer'))).sub).toBe('u42');
    }
  });

  it('uses a single key whatever kid the token names, and a set by kid', async () => {
    const pair = await keyPair('ES256');
    const other = await keyPair('ES256');
    const noKid = await signWith(pair, claims(), { kid: null });
    const strangeKid = await signWith(pair, claims(), { kid: 'elsewhere' });
    await fileVerifier(pair.pem).verify(strangeKid, 'bearer');
    const set = fileVerifier(JSON.stringify({ keys: [other.jwk, pair.jwk] }));
    await set.verify(await signWith(pair, claims()), 'bearer');
    // No kid and two keys of the algorithm: each is tried.
    await set.verify(noKid, 'bearer');
    expect((await refusal(set, strangeKid)).message).toBe(
      'No key of this server has the token\'s key id ("elsewhere").',
    );
  });

  it('refuses an HMAC token "signed" with the public key\'s PEM text (algorithm confusion)', async () => {
    const pair = await keyPair('RS256');
    const forged = await signHmac(claims({ wallcast: { moderate: ['*'] } }), pair.pem);
    const failure = await refusal(fileVerifier(pair.pem), forged);
    expect(failure.reason).toBe('token_invalid');
    expect(failure.message).toBe('The token is signed with HS256; this server accepts RS256, PS256 only.');
    const jwkForged = await signHmac(claims(), JSON.stringify(pair.jwk));
    expect((await refusal(fileVerifier(JSON.stringify(pair.jwk)), jwkForged)).reason).toBe('token_invalid');
  });

  it('refuses alg "none", another key\'s signature, and another key type\'s algorithm', async () => {
    const pair = await keyPair('ES256');
    const verifier = fileVerifier(pair.pem);
    expect((await refusal(verifier, unsigned(claims()))).message).toBe(
      'The token is signed with none; this server accepts ES256 only.',
    );
    const stranger = await keyPair('ES256');
    expect((await refusal(verifier, await signWith(stranger, claims()))).message).toMatch(/signature does not verify/);
    const rsa = await keyPair('RS256');
    expect((await refusal(verifier, await signWith(rsa, claims()))).message).toBe(
      'The token is signed with RS256; this server accepts ES256 only.',
    );
  });

  it('narrows an RSA key to the alg its JWK names', async () => {
    const pair = await keyPair('PS256');
    const verifier = fileVerifier(JSON.stringify(pair.jwk));
    await verifier.verify(await signWith(pair, claims()), 'bearer');
    const rs = await signWith(await asAlgorithm(pair, 'RS256'), claims());
    expect((await refusal(verifier, rs)).message).toBe(
      'The token is signed with RS256; this server accepts PS256 only.',
    );
  });
});
