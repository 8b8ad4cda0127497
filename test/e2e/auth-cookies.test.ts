/**
 * The token cookie (issue 16, "How a token arrives"): the browser sends it
 * whoever's page makes the request, so a cookie-authorised post or ticket
 * request is held to the same-origin checks of form posts; and a stale one
 * must not lock its user out of walls anyone may read or post to.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthServer, expectRefusal, startAuthServer } from '../support/auth-server.js';
import { nowSeconds } from '../support/jwt.js';

const FOREIGN = 'https://evil.example';

describe('the token cookie', () => {
  let server: AuthServer;
  let cookie: string;
  beforeAll(async () => {
    server = await startAuthServer({ WALLCAST_PRIVATE_WALLS: 'team-*', WALLCAST_OPEN_WALLS: 'guestbook' });
    const token = await server.token({ name: 'Ann', wallcast: { read: ['team-*'], post: ['team-*', 'guestbook'] } });
    cookie = `theme=dark; wallcast_token=${token}`;
  });
  afterAll(() => server?.close());

  const bodies = async (wall: string) => {
    const history = await server.call(`/api/walls/${wall}/messages`, { cookie });
    return history.json.messages.map((m: { body: string }) => m.body) as string[];
  };

  it('accepts a cookie-authorised post from the same site, as the token says', async () => {
    const sameOrigin = { Origin: server.url, 'Sec-Fetch-Site': 'same-origin' };
    const posted = await server.call('/api/walls/team-a/messages', {
      cookie,
      headers: sameOrigin,
      body: { body: 'same site', author: 'Mallory' },
    });
    expect(posted.status, posted.text).toBe(201);
    expect(posted.json).toMatchObject({ author: 'Ann', authorId: 'u42' });
    const noOrigin = await server.call('/api/walls/team-a/messages', { cookie, body: { body: 'no origin (curl)' } });
    expect(noOrigin.status).toBe(201);
    expect(await bodies('team-a')).toEqual(['same site', 'no origin (curl)']);
  });

  it('refuses a cookie-authorised post from another site (Sec-Fetch-Site or a foreign Origin), storing nothing', async () => {
    const crossSite: Record<string, string>[] = [
      { 'Sec-Fetch-Site': 'cross-site' },
      { Origin: FOREIGN },
      { Origin: 'null' },
    ];
    for (const headers of crossSite) {
      for (const wall of ['team-b', 'guestbook']) {
        const posted = await server.call(`/api/walls/${wall}/messages`, {
          cookie,
          headers,
          body: { body: 'cross site' },
          label: `cross-site post to ${wall} (${JSON.stringify(headers)})`,
        });
        expect({ status: posted.status, code: posted.json?.error?.code }).toEqual({ status: 403, code: 'forbidden' });
        expect(posted.json.error.message).toMatch(/token cookie/);
      }
    }
    const form = await server.call('/api/walls/team-b/messages', {
      cookie,
      headers: { Origin: FOREIGN },
      form: { body: 'cross-site form' },
    });
    expect(form.status).toBe(403);
    expect(await bodies('team-b')).toEqual([]);
    expect(await bodies('guestbook')).toEqual([]);
  });

  it('refuses a cookie-authorised ticket request from another site', async () => {
    const foreign = await server.call('/api/tickets', {
      cookie,
      headers: { Origin: FOREIGN },
      body: { walls: ['team-a'] },
    });
    expect({ status: foreign.status, code: foreign.json?.error?.code }).toEqual({ status: 403, code: 'forbidden' });
    expect(foreign.text).not.toMatch(/"ticket"/);
    const same = await server.call('/api/tickets', {
      cookie,
      headers: { Origin: server.url },
      body: { walls: ['team-a'] },
    });
    expect(same.status).toBe(201);
    server.remember(same.json.ticket);
  });

  it('takes a bearer token from another site: only the cookie is ambient', async () => {
    const token = await server.token({ wallcast: { post: ['team-c'] } });
    const posted = await server.call('/api/walls/team-c/messages', {
      bearer: token,
      headers: { Origin: FOREIGN, 'Sec-Fetch-Site': 'cross-site' },
      body: { body: 'bearer from elsewhere' },
    });
    expect(posted.status, posted.text).toBe(201);
  });

  it('reads a stale cookie as no token where none is needed, and refuses it where one is', async () => {
    const exp = nowSeconds() - 300;
    const stale = `wallcast_token=${await server.token({ exp, iat: exp - 60, wallcast: { read: ['*'], post: ['*'] } })}`;
    const lobby = await server.call('/api/walls/lobby/messages', { cookie: stale });
    expect(lobby.status, lobby.text).toBe(200);
    const stream = await server.call('/api/walls/lobby/events', {
      cookie: stale,
      headers: { Accept: 'text/event-stream' },
    });
    expect(stream.status).toBe(200);
    const guest = await server.call('/api/walls/guestbook/messages', {
      cookie: stale,
      body: { body: 'anonymous after all', author: 'Bob' },
    });
    expect(guest.status, guest.text).toBe(201);
    expect(guest.json).toMatchObject({ author: 'Bob', authorId: null });
    expectRefusal(await server.call('/api/walls/team-a/messages', { cookie: stale }), {
      status: 401,
      code: 'token_expired',
    });
    expectRefusal(await server.call('/api/walls/lobby/messages', { cookie: stale, body: { body: 'x' } }), {
      status: 401,
      code: 'token_expired',
    });
    // A bearer token was sent on purpose: a bad one is refused even on a public wall (RFC 6750 §3.1).
    const bearer = stale.slice('wallcast_token='.length);
    expectRefusal(await server.call('/api/walls/lobby/messages', { bearer }), { status: 401, code: 'token_expired' });
  });
});
