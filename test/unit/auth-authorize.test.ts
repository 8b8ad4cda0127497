import { describe, expect, it } from 'vitest';
import { AuthFailure } from '../../src/auth/auth-failure.js';
import { createAuth } from '../../src/auth/create-auth.js';
import { parseJwtSecret } from '../../src/auth/settings.js';
import { parseWallPatternList, WallPatterns } from '../../src/auth/wall-patterns.js';
import { createLogger } from '../../src/logger.js';
import { within } from '../support/deadlines.js';
import { claims, nowSeconds, secretText, signHmac } from '../support/jwt.js';

const secret = secretText(32);
const log = createLogger('silent');
const walls = { privateWalls: parseWallPatternList('team-*'), openWalls: parseWallPatternList('main') };
const keyed = () =>
  createAuth({ secret: parseJwtSecret(secret, 'WALLCAST_JWT_SECRET'), cookieName: 'wallcast_token', ...walls }, log);

async function refusal(promise: Promise<unknown>): Promise<AuthFailure> {
  const error = await within('authorize', 5000, promise).then(
    () => expect.unreachable('it was allowed'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthFailure);
  return error as AuthFailure;
}

describe('authorising a request', () => {
  it('answers who the request is once its action is allowed', async () => {
    const token = await signHmac(claims({ name: 'Ann', wallcast: { read: ['team-a'], post: ['team-a'] } }), secret);
    const identity = await keyed().authorize({ via: 'bearer', token }, 'post', ['team-a']);
    expect(identity).toMatchObject({ sub: 'u42', name: 'Ann', via: 'bearer' });
    expect(await keyed().authorize(undefined, 'read', ['other'])).toBeUndefined();
    expect(await keyed().authorize(undefined, 'post', ['main'])).toBeUndefined();
    const scope = await refusal(keyed().authorize({ via: 'cookie', token }, 'read', ['team-a', 'team-b']));
    expect(scope.message).toBe('This token cannot read wall team-b.');
  });

  it('refuses a bad bearer token even where none is needed, but takes a stale cookie there as anonymous', async () => {
    const expired = await signHmac(claims({ exp: nowSeconds() - 3600 }), secret);
    expect((await refusal(keyed().authorize({ via: 'bearer', token: expired }, 'read', ['other']))).reason).toBe(
      'token_expired',
    );
    expect(await keyed().authorize({ via: 'cookie', token: expired }, 'read', ['other'])).toBeUndefined();
    expect(await keyed().authorize({ via: 'cookie', token: 'garbage' }, 'post', ['main'])).toBeUndefined();
    expect((await refusal(keyed().authorize({ via: 'cookie', token: expired }, 'read', ['team-a']))).reason).toBe(
      'token_expired',
    );
  });

  it('opens a stream with a ticket once, for the walls it names', async () => {
    const auth = keyed();
    const token = await signHmac(claims({ wallcast: { read: ['team-*'] } }), secret);
    const identity = await auth.authorize({ via: 'bearer', token }, 'read', ['team-a']);
    const { ticket } = await auth.issueTicket(identity!, ['team-a', 'team-b']);
    expect(await auth.authorize({ via: 'ticket', ticket }, 'read', ['team-a', 'team-b'])).toMatchObject({
      via: 'ticket',
    });
    expect((await refusal(auth.authorize({ via: 'ticket', ticket }, 'read', ['team-a']))).reason).toBe(
      'ticket_invalid',
    );
  });

  it('without a key, reads no credential and changes nothing', async () => {
    const open = createAuth({ privateWalls: WallPatterns.none, openWalls: WallPatterns.none, cookieName: 'c' }, log);
    const token = await signHmac(claims(), secret);
    expect(open.keyConfigured).toBe(false);
    expect(await open.authorize({ via: 'bearer', token }, 'post', ['team-a'])).toBeUndefined();
    expect(await open.authorize({ via: 'cookie', token: 'x' }, 'read', ['team-a'])).toBeUndefined();
    expect(await open.authorize({ via: 'ticket', ticket: 'x' }, 'read', ['main'])).toBeUndefined();
  });
});
