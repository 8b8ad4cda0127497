/**
 * `wallcast token` (issue 16, "Also"), the built CLI (`dist/main.js`, by
 * `npm run build`): the token it prints is one the server accepts, with the
 * grants its flags name; without WALLCAST_JWT_SECRET it says why.
 */
import { spawnSync } from 'node:child_process';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthServer, expectRefusal, SECRET, startAuthServer } from '../support/auth-server.js';
import { MAIN } from '../support/process.js';

const ARGS = ['token', '--sub', 'u42', '--name', 'Ann', '--read', 'team-*', '--post', 'team-*', '--ttl', '1h'];

/** The environment without any WALLCAST_ setting of the test run's own. */
function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('WALLCAST_') && value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}

function wallcastToken(env: Record<string, string>) {
  return spawnSync(process.execPath, [MAIN, ...ARGS], { env: cleanEnv(env), encoding: 'utf8', timeout: 10_000 });
}

describe('wallcast token', () => {
  let server: AuthServer;
  beforeAll(async () => {
    server = await startAuthServer({ WALLCAST_PRIVATE_WALLS: 'team-*,ops' });
  });
  afterAll(() => server?.close());

  it('prints a token signed with WALLCAST_JWT_SECRET that the server accepts for the walls its flags name', async () => {
    const run = wallcastToken({ WALLCAST_JWT_SECRET: SECRET });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines).toHaveLength(2);
    const token = server.remember(lines[0] as string);
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ sub: 'u42', name: 'Ann', wallcast: { read: ['team-*'], post: ['team-*'] } });
    expect((claims.exp as number) - (claims.iat as number)).toBe(3600);
    const read = await server.call('/api/walls/team-a/messages', { bearer: token });
    expect(read.status, read.text).toBe(200);
    const posted = await server.call('/api/walls/team-a/messages', { bearer: token, body: { body: 'from the CLI' } });
    expect(posted.status, posted.text).toBe(201);
    expect(posted.json).toMatchObject({ author: 'Ann', authorId: 'u42' });
    const stream = await server.call('/api/walls/team-b/events', {
      bearer: token,
      headers: { Accept: 'text/event-stream' },
    });
    expect(stream.status).toBe(200);
    expectRefusal(await server.call('/api/walls/ops/messages', { bearer: token }), {
      status: 403,
      code: 'insufficient_scope',
      message: /^This token cannot read wall ops\.$/,
    });
  });

  it('says on stderr why it cannot, with a non-zero exit, without WALLCAST_JWT_SECRET or with a short one', () => {
    const unset = wallcastToken({});
    expect(unset.status).not.toBe(0);
    expect(unset.stdout).toBe('');
    expect(unset.stderr.trim()).toBe(
      'wallcast token: WALLCAST_JWT_SECRET is not set: the token is signed with it (32 bytes or more)',
    );
    const short = wallcastToken({ WALLCAST_JWT_SECRET: 'too-short' });
    expect(short.status).not.toBe(0);
    expect(short.stdout).toBe('');
    expect(short.stderr).toMatch(/^wallcast token: WALLCAST_JWT_SECRET is 9 bytes; an HMAC secret needs at least 32/);
  });
});
