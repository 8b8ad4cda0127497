import { describe, expect, it } from 'vitest';
import { AccessPolicy } from '../../src/auth/access.js';
import { AuthFailure, wwwAuthenticate } from '../../src/auth/auth-failure.js';
import type { Identity } from '../../src/auth/identity.js';
import { parseWallPatternList, WallPatterns } from '../../src/auth/wall-patterns.js';

const patterns = parseWallPatternList;

function identity(grants: { read?: string; post?: string; moderate?: string }): Identity {
  return {
    sub: 'u42',
    name: 'Ann',
    grants: {
      read: patterns(grants.read ?? ''),
      post: patterns(grants.post ?? ''),
      moderate: patterns(grants.moderate ?? ''),
    },
    expiresAtMs: Date.now() + 60_000,
    via: 'bearer',
  };
}

function failure(run: () => void): AuthFailure | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    if (error instanceof AuthFailure) return error;
    throw error;
  }
}

const policy = new AccessPolicy({
  keyConfigured: true,
  privateWalls: patterns('team-*,staff'),
  openWalls: patterns('main,guest-*'),
});

describe('the access policy', () => {
  it('lets anyone read a wall that is not private, with or without a token', () => {
    expect(failure(() => policy.check(undefined, 'read', ['main', 'other']))).toBeUndefined();
    expect(failure(() => policy.check(identity({}), 'read', ['other']))).toBeUndefined();
  });

  it('needs a read grant for a private wall: token_missing without a token, insufficient_scope without the grant', () => {
    const missing = failure(() => policy.check(undefined, 'read', ['team-a']));
    expect(missing?.reason).toBe('token_missing');
    expect(missing?.message).toBe('Wall team-a is private: reading needs a token with a read grant for it.');
    const scope = failure(() => policy.check(identity({ read: 'team-b' }), 'read', ['team-a']));
    expect(scope?.reason).toBe('insufficient_scope');
    expect(scope?.message).toBe('This token cannot read wall team-a.');
    expect(failure(() => policy.check(identity({ read: 'team-*' }), 'read', ['team-a']))).toBeUndefined();
    expect(failure(() => policy.check(identity({ moderate: 'team-a' }), 'read', ['team-a']))).toBeUndefined();
  });

  it('names every refused wall of a several-wall read in one failure', () => {
    const reader = identity({ read: 'team-a' });
    const scope = failure(() => policy.check(reader, 'read', ['main', 'team-a', 'team-b', 'staff', 'team-c']));
    expect(scope?.message).toBe('This token cannot read walls team-b, staff and team-c.');
    const missing = failure(() => policy.check(undefined, 'read', ['team-b', 'main', 'staff']));
    expect(missing?.message).toBe(
      'Walls team-b and staff are private: reading needs a token with a read grant for each.',
    );
  });

  it('with a key, needs a post grant to post, except on open walls where anyone may', () => {
    expect(failure(() => policy.check(undefined, 'post', ['main']))).toBeUndefined();
    expect(failure(() => policy.check(undefined, 'post', ['guest-1']))).toBeUndefined();
    const missing = failure(() => policy.check(undefined, 'post', ['team-b']));
    expect(missing?.reason).toBe('token_missing');
    expect(missing?.message).toBe('Posting to wall team-b needs a token with a post grant for it.');
    const scope = failure(() => policy.check(identity({ read: 'team-b', post: 'team-a' }), 'post', ['team-b']));
    expect(scope?.reason).toBe('insufficient_scope');
    expect(scope?.message).toBe('This token cannot post to wall team-b.');
    expect(failure(() => policy.check(identity({ post: 'team-*' }), 'post', ['team-b']))).toBeUndefined();
    expect(failure(() => policy.check(identity({ moderate: 'team-b' }), 'post', ['team-b']))).toBeUndefined();
  });

  it('without a key, lets anyone post as before', () => {
    const open = new AccessPolicy({
      keyConfigured: false,
      privateWalls: WallPatterns.none,
      openWalls: WallPatterns.none,
    });
    expect(failure(() => open.check(undefined, 'post', ['team-b', 'main']))).toBeUndefined();
    expect(failure(() => open.check(undefined, 'read', ['team-b', 'main']))).toBeUndefined();
  });

  it('needs a moderate grant to moderate; read and post grants are not enough', () => {
    expect(failure(() => policy.check(undefined, 'moderate', ['main']))?.message).toBe(
      'Moderating wall main needs a token with a moderate grant for it.',
    );
    const scope = failure(() => policy.check(identity({ read: '*', post: '*' }), 'moderate', ['main']));
    expect(scope?.message).toBe('This token cannot moderate wall main.');
    expect(failure(() => policy.check(identity({ moderate: 'ma*' }), 'moderate', ['main']))).toBeUndefined();
  });

  it('tells which walls are private', () => {
    expect(policy.isPrivate('team-x')).toBe(true);
    expect(policy.isPrivate('main')).toBe(false);
  });
});

describe('auth failures on the wire', () => {
  it('are 401 but for insufficient_scope (403)', () => {
    expect(new AuthFailure('token_missing', 'x').status).toBe(401);
    expect(new AuthFailure('token_invalid', 'x').status).toBe(401);
    expect(new AuthFailure('token_expired', 'x').status).toBe(401);
    expect(new AuthFailure('ticket_invalid', 'x').status).toBe(401);
    expect(new AuthFailure('insufficient_scope', 'x').status).toBe(403);
  });

  it('carry an RFC 6750 WWW-Authenticate challenge: no error without a credential, quoted descriptions otherwise', () => {
    expect(wwwAuthenticate(new AuthFailure('token_missing', 'Wall x is private.'))).toBe('Bearer realm="wallcast"');
    expect(wwwAuthenticate(new AuthFailure('token_expired', 'The token expired at 2026-01-01T00:00:00.000Z.'))).toBe(
      'Bearer realm="wallcast", error="invalid_token", error_description="The token expired at 2026-01-01T00:00:00.000Z."',
    );
    expect(wwwAuthenticate(new AuthFailure('insufficient_scope', 'This token cannot post to wall team-b.'))).toBe(
      'Bearer realm="wallcast", error="insufficient_scope", error_description="This token cannot post to wall team-b."',
    );
    const header = wwwAuthenticate(new AuthFailure('token_invalid', 'The "iss" is not \\ "x" – é'));
    expect(header).toBe(
      `Bearer realm="wallcast", error="invalid_token", error_description="The 'iss' is not ? 'x' ? ?"`,
    );
    expect(header).toMatch(/^[\x20-\x7e]*$/);
  });
});
