/**
 * Stream tickets (issue 16, "How a token arrives") on the real server:
 * `POST /api/tickets` for a bearer token, `?ticket=` on a stream URL only,
 * single use, the walls it names only, and never past its token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthServer, expectRefusal, startAuthServer } from '../support/auth-server.js';
import { until } from '../support/deadlines.js';
import { nowSeconds } from '../support/jwt.js';

const SSE = { Accept: 'text/event-stream' };

describe('stream tickets', () => {
  let server: AuthServer;
  let reader: string;
  beforeAll(async () => {
    server = await startAuthServer({ WALLCAST_PRIVATE_WALLS: 'team-*' });
    const poster = await server.token({ wallcast: { post: ['team-*'] } });
    for (const wall of ['team-a', 'team-b']) {
      const posted = await server.call(`/api/walls/${wall}/messages`, { bearer: poster, body: { body: `on ${wall}` } });
      expect(posted.status).toBe(201);
    }
    reader = await server.token({ wallcast: { read: ['team-*'] } });
  });
  afterAll(() => server?.close());

  const stream = (path: string, ticket: string) =>
    server.call(`${path}${path.includes('?') ? '&' : '?'}ticket=${ticket}`, { headers: SSE, label: `${path} ticket` });

  it('issues a ticket (201, no-store) that opens a stream once; the second use is 401 ticket_invalid', async () => {
    const issued = await server.call('/api/tickets', { bearer: reader, body: { walls: ['team-a'] } });
    expect(issued.status).toBe(201);
    expect(issued.headers['cache-control']).toBe('no-store');
    expect(issued.json).toEqual({ ticket: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/), expiresIn: 60 });
    const ticket = server.remember(issued.json.ticket as string);
    const first = await stream('/api/walls/team-a/events', ticket);
    expect(first.status).toBe(200);
    expect(first.text).toContain('on team-a');
    const replay = await stream('/api/walls/team-a/events', ticket);
    expectRefusal(replay, { status: 401, code: 'ticket_invalid', message: /unknown, used or expired/ });
    expect(replay.text).not.toContain('on team-a');
  });

  it('takes no ticket on a HEAD of a stream (it opens none), so the stream opened after it still has its ticket', async () => {
    const ticket = await server.ticket(reader, ['team-a']);
    const head = await server.call(`/api/walls/team-a/events?ticket=${ticket}`, { method: 'HEAD', headers: SSE });
    // A ticket alone says nobody to a HEAD: a private wall needs a token there.
    expect(head.status).toBe(401);
    const first = await stream('/api/walls/team-a/events', ticket);
    expect(first.status).toBe(200);
  });

  it('refuses a ticket for wall A on wall B as ticket_invalid, and that use spends it', async () => {
    const ticket = await server.ticket(reader, ['team-a']);
    const elsewhere = await stream('/api/walls/team-b/events', ticket);
    expectRefusal(elsewhere, {
      status: 401,
      code: 'ticket_invalid',
      message: /^This ticket is for team-a, not team-b/,
    });
    expect(elsewhere.text).not.toContain('on team-b');
    const several = await server.ticket(reader, ['team-a']);
    expectRefusal(await stream('/api/events?walls=team-a,team-b', several), {
      status: 401,
      code: 'ticket_invalid',
      message: /^This ticket is for team-a, not team-b/,
    });
    expectRefusal(await stream('/api/walls/team-a/events', ticket), { status: 401, code: 'ticket_invalid' });
  });

  it('opens a several-wall stream with a ticket naming its walls', async () => {
    const ticket = await server.ticket(reader, ['team-a', 'team-b']);
    const opened = await stream('/api/events?walls=team-a,team-b', ticket);
    expect(opened.status).toBe(200);
    expect(opened.text).toContain('on team-a');
    expect(opened.text).toContain('on team-b');
  });

  it('ignores ?ticket= on a URL that is not a stream: no credential there, and the ticket is not spent', async () => {
    const ticket = await server.ticket(reader, ['team-a']);
    for (const path of ['/api/walls/team-a/messages', '/api/walls/team-a/presence']) {
      const answer = await server.call(`${path}?ticket=${ticket}`, { label: path });
      expectRefusal(answer, { status: 401, code: 'token_missing' });
    }
    const post = await server.call(`/api/walls/team-a/messages?ticket=${ticket}`, { body: { body: 'with a ticket' } });
    expectRefusal(post, { status: 401, code: 'token_missing' });
    expect((await stream('/api/walls/team-a/events', ticket)).status).toBe(200);
  });

  it('gives tickets only to a token, for walls it may read, and not for a ticket', async () => {
    expectRefusal(await server.call('/api/tickets', { body: { walls: ['team-a'] } }), {
      status: 401,
      code: 'token_missing',
    });
    const readsA = await server.token({ wallcast: { read: ['team-a'] } });
    expectRefusal(await server.call('/api/tickets', { bearer: readsA, body: { walls: ['team-a', 'team-b'] } }), {
      status: 403,
      code: 'insufficient_scope',
      message: /^This token cannot read wall team-b\.$/,
    });
    const ticket = await server.ticket(reader, ['team-a']);
    expectRefusal(await server.call('/api/tickets', { bearer: ticket, body: { walls: ['team-a'] } }), {
      status: 401,
      code: 'token_invalid',
    });
    const malformed = await server.call('/api/tickets', { bearer: reader, body: { walls: 'team-a' } });
    expect({ status: malformed.status, code: malformed.json.error.code }).toEqual({ status: 400, code: 'bad_request' });
  });

  it('ends a ticket with its token: one issued for a token about to expire is refused once it has', async () => {
    const exp = nowSeconds() + 2;
    const shortLived = await server.token({ exp, wallcast: { read: ['team-*'] } });
    const issued = await server.call('/api/tickets', { bearer: shortLived, body: { walls: ['team-a'] } });
    expect(issued.status).toBe(201);
    expect(issued.json.expiresIn).toBeLessThanOrEqual(2);
    const ticket = server.remember(issued.json.ticket as string);
    await until('the token behind the ticket expires', 4000, () => Date.now() >= exp * 1000);
    expectRefusal(await stream('/api/walls/team-a/events', ticket), { status: 401, code: 'ticket_invalid' });
  });
});
