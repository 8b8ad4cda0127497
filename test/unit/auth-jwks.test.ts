import { afterEach, describe, expect, it } from 'vitest';
import { AuthFailure } from '../../src/auth/auth-failure.js';
import { type Auth, createAuth } from '../../src/auth/create-auth.js';
import type { Identity } from '../../src/auth/identity.js';
import {
  JWKS_REFETCH_INTERVAL_MS,
  KeySetUnavailable,
  MAX_JWKS_BYTES,
  RemoteKeySet,
  type RemoteKeySetOptions,
} from '../../src/auth/remote-key-set.js';
import { WallPatterns } from '../../src/auth/wall-patterns.js';
import { until, within } from '../support/deadlines.js';
import {
  capturingLogger,
  claims,
  type JwksServer,
  type KeyPair,
  keyPair,
  secretText,
  signHmac,
  signWith,
  startJwksServer,
} from '../support/jwt.js';

const servers: JwksServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

async function serve(...pairs: KeyPair[]): Promise<JwksServer> {
  const server = await startJwksServer(pairs.map((pair) => pair.jwk));
  servers.push(server);
  return server;
}

function authFor(server: JwksServer, jwks: RemoteKeySetOptions) {
  const { log, lines } = capturingLogger();
  const auth = createAuth(
    { jwksUrl: server.url, privateWalls: WallPatterns.none, openWalls: WallPatterns.none, cookieName: 'c', jwks },
    log,
  );
  return { auth, lines };
}

async function identify(auth: Auth, token: string): Promise<Identity> {
  const identity = await within('identify', 5000, auth.identify({ via: 'bearer', token }));
  if (identity === undefined) return expect.unreachable('a token gave no identity');
  return identity;
}

async function refusal(auth: Auth, token: string): Promise<unknown> {
  return identify(auth, token).then(
    () => expect.unreachable('the token was accepted'),
    (error: unknown) => error,
  );
}

describe('keys from a JWK Set URL', () => {
  it('fetches the set on first use and keeps it: one fetch for many tokens', async () => {
    const a = await keyPair('ES256');
    const server = await serve(a);
    const { auth } = authFor(server, {});
    for (let i = 0; i < 20; i++) expect((await identify(auth, await signWith(a, claims()))).sub).toBe('u42');
    expect(server.requests).toBe(1);
  });

  it('picks up a new kid by fetching the set again, and refuses a removed kid after the refresh', async () => {
    const a = await keyPair('ES256');
    const b = await keyPair('RS256');
    const server = await serve(a);
    const { auth } = authFor(server, { refetchIntervalMs: 0 });
    const tokenA = await signWith(a, claims());
    await identify(auth, tokenA);
    server.setKeys([a.jwk, b.jwk]);
    expect((await identify(auth, await signWith(b, claims()))).sub).toBe('u42');
    expect(server.requests).toBe(2);
    // A is gone from the set, but the cache does not know until it fetches again.
    server.setKeys([b.jwk]);
    await identify(auth, tokenA);
    const unknown = await refusal(auth, await signWith(a, claims(), { kid: 'never-seen' }));
    expect((unknown as AuthFailure).message).toBe('No key of this server has the token\'s key id ("never-seen").');
    const removed = (await refusal(auth, tokenA)) as AuthFailure;
    expect(removed.reason).toBe('token_invalid');
    expect(removed.message).toBe(`No key of this server has the token's key id ("${a.kid}").`);
  });

  it('refreshes a set older than its max age, so a removed key is refused without any unknown kid', async () => {
    const a = await keyPair('ES256');
    const b = await keyPair('ES256');
    const server = await serve(a, b);
    const { auth } = authFor(server, { refetchIntervalMs: 0, maxAgeMs: 50 });
    const tokenA = await signWith(a, claims());
    await identify(auth, tokenA);
    server.setKeys([b.jwk]);
    await until(
      'the removed key is refused',
      5000,
      async () => (await auth.identify({ via: 'bearer', token: tokenA }).catch(() => undefined)) === undefined,
    );
  });

  it('keeps the cached keys while the set cannot be fetched, past its max age, and logs each failed fetch', async () => {
    const a = await keyPair('EdDSA');
    const server = await serve(a);
    const { auth, lines } = authFor(server, { refetchIntervalMs: 0, maxAgeMs: 0 });
    const token = await signWith(a, claims());
    await identify(auth, token);
    server.setMode('failing');
    for (let i = 0; i < 5; i++) expect((await identify(auth, token)).sub).toBe('u42');
    await until('a failed fetch is logged', 5000, () => lines.some((line) => line.includes('answered 503')));
    const failed = JSON.parse(lines.find((line) => line.includes('answered 503'))!);
    expect(failed).toMatchObject({ level: 40, jwksUrl: server.url.href });
    expect(failed.msg).toMatch(/^could not fetch the JWK Set \(keeping the cached keys\)/);
    await server.stop();
    servers.splice(servers.indexOf(server), 1);
    expect((await identify(auth, token)).sub).toBe('u42');
    expect(lines.join('\n')).not.toContain(token);
  });

  for (const mode of ['up', 'failing'] as const) {
    it(`fetches at most once per interval under 1,000 tokens with unknown kids (server ${mode})`, async () => {
      const a = await keyPair('ES256');
      const server = await serve(a);
      const intervalMs = 200;
      const { auth } = authFor(server, { refetchIntervalMs: intervalMs });
      await identify(auth, await signWith(a, claims()));
      server.setMode(mode);
      const before = server.requests;
      const tokens = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => signWith(a, claims(), { kid: `unknown-${i}` })),
      );
      const started = Date.now();
      // Half at once, half one after another over a few intervals.
      const burst = await Promise.all(tokens.slice(0, 500).map((token) => refusal(auth, token)));
      for (const token of tokens.slice(500)) {
        await refusal(auth, token);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      const elapsedMs = Date.now() - started;
      expect(burst.every((error) => error instanceof AuthFailure && error.reason === 'token_invalid')).toBe(true);
      const fetches = server.requests - before;
      expect(fetches).toBeGreaterThanOrEqual(1);
      expect(fetches).toBeLessThanOrEqual(Math.ceil(elapsedMs / intervalMs) + 1);
    });
  }

  it('waits 30 s between fetches by default: 1,000 tokens with unknown kids fetch once', async () => {
    expect(JWKS_REFETCH_INTERVAL_MS).toBe(30_000);
    const a = await keyPair('ES256');
    const server = await serve(a);
    const { log } = capturingLogger();
    expect(new RemoteKeySet(server.url, log).refetchIntervalMs).toBe(30_000);
    const { auth } = authFor(server, {});
    await identify(auth, await signWith(a, claims()));
    const tokens = await Promise.all(Array.from({ length: 1000 }, (_, i) => signWith(a, claims(), { kid: `u${i}` })));
    for (const token of tokens) await refusal(auth, token);
    expect(server.requests).toBe(1);
  });

  it('starts while the set cannot be fetched, answers 503-style until it can, then verifies', async () => {
    const a = await keyPair('ES256');
    const server = await serve(a);
    server.setMode('failing');
    const { auth, lines } = authFor(server, { refetchIntervalMs: 100 });
    await within('warm-up', 5000, auth.warmUp());
    expect(lines.some((line) => line.includes('could not fetch the JWK Set (no keys yet)'))).toBe(true);
    const token = await signWith(a, claims());
    const unavailable = await refusal(auth, token);
    expect(unavailable).toBeInstanceOf(KeySetUnavailable);
    expect((unavailable as KeySetUnavailable).retryAfterSeconds).toBe(1);
    server.setMode('up');
    await until(
      'the token verifies once the set is fetched',
      5000,
      async () => (await auth.identify({ via: 'bearer', token }).catch(() => undefined)) !== undefined,
    );
  });

  it('gives up on a set that is too large, not JSON, not a set, or too slow, keeping the cached keys', async () => {
    const a = await keyPair('ES256');
    const server = await serve(a);
    const { auth, lines } = authFor(server, { refetchIntervalMs: 0, timeoutMs: 200 });
    const token = await signWith(a, claims());
    await identify(auth, token);
    const cases: [() => void, string][] = [
      [() => server.setBody(JSON.stringify({ keys: [], pad: 'x'.repeat(MAX_JWKS_BYTES) })), 'more than 262144 bytes'],
      [() => server.setBody('<html>'), 'the response is not JSON'],
      [() => server.setBody('{"keys": 7}'), 'JSON Web Key Set malformed'],
      [() => server.setMode('hanging'), 'aborted due to timeout'],
    ];
    for (const [breakIt, logged] of cases) {
      breakIt();
      await refusal(auth, await signWith(a, claims(), { kid: 'new' }));
      expect(
        lines.some((line) => line.includes(logged)),
        logged,
      ).toBe(true);
      expect((await identify(auth, token)).sub).toBe('u42');
    }
  });

  it('refuses HMAC tokens without fetching anything', async () => {
    const a = await keyPair('ES256');
    const server = await serve(a);
    const { auth } = authFor(server, {});
    const failure = (await refusal(auth, await signHmac(claims(), secretText()))) as AuthFailure;
    expect(failure.message).toBe(
      'The token is signed with HS256; this server accepts RS256, PS256, ES256, EdDSA only.',
    );
    expect(server.requests).toBe(0);
  });
});
