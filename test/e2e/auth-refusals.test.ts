/**
 * Every auth refusal of issue 16 over real HTTP, on every door that reads a
 * private wall: the API's history and single message, the stream, the
 * several-wall stream, presence, and the Tornado-compat long poll on a
 * private `main`. Each answers the contract's status, code and message with
 * RFC 6750's WWW-Authenticate, and never a message of the wall.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/message.js';
import { type Answer, type AuthServer, expectRefusal, type Refusal, startAuthServer } from '../support/auth-server.js';
import { nowSeconds, secretText, signHmac, claims as tokenClaims } from '../support/jwt.js';

const XSRF = 'abcdefabcdefabcdefabcdef';

describe('auth refusals on every door of a private wall', () => {
  let server: AuthServer;
  /** One message on each private wall, which no refusal may show. */
  const secrets: Message[] = [];

  beforeAll(async () => {
    server = await startAuthServer({ WALLCAST_PRIVATE_WALLS: 'team-*,main', WALLCAST_OPEN_WALLS: 'guestbook' });
    const poster = await server.token({ wallcast: { post: ['team-*', 'main'] } });
    for (const wall of ['team-a', 'team-b', 'main']) {
      const posted = await server.call(`/api/walls/${wall}/messages`, {
        bearer: poster,
        body: { body: `PRIVATE-${wall}-body` },
      });
      expect(posted.status, posted.text).toBe(201);
      secrets.push(posted.json);
    }
  });
  afterAll(() => server?.close());

  /** Each door that reads team-a (or main), with whatever credential `as` adds. */
  const doors = (as: { bearer?: string; cookie?: string }) => {
    const id = secrets[0]?.id as string;
    const cookie = [`_xsrf=${XSRF}`, as.cookie].filter(Boolean).join('; ');
    return {
      history: () => server.call('/api/walls/team-a/messages', as),
      message: () => server.call(`/api/walls/team-a/messages/${id}`, as),
      stream: () => server.call('/api/walls/team-a/events', { ...as, headers: { Accept: 'text/event-stream' } }),
      mainStream: () => server.call('/api/events', { ...as, headers: { Accept: 'text/event-stream' } }),
      presence: () => server.call('/api/walls/team-a/presence', as),
      longPoll: () =>
        server.call('/a/message/updates', { bearer: as.bearer, cookie, form: { cursor: '', _xsrf: XSRF } }),
    };
  };

  /** Every door refuses alike, and no answer holds a private message's body or id. */
  async function expectEveryDoorRefuses(as: { bearer?: string; cookie?: string }, refusal: Refusal) {
    for (const [door, open] of Object.entries(doors(as))) {
      const answer: Answer = await open();
      try {
        expectRefusal(answer, refusal);
        for (const message of secrets) {
          expect(answer.text).not.toContain(message.body);
          expect(answer.text).not.toContain(message.id);
        }
      } catch (error) {
        throw new Error(`${door}: ${(error as Error).message}\n${answer.status} ${answer.text}`);
      }
    }
  }

  it('answers 401 token_missing with the bare challenge on every door when no token came', async () => {
    await expectEveryDoorRefuses({}, { status: 401, code: 'token_missing', message: /private: reading needs a token/ });
  });

  it('answers 401 token_invalid for a token signed with another key, or no JWT at all', async () => {
    const forged = server.remember(await signHmac(tokenClaims({ wallcast: { read: ['*'] } }), secretText(48)));
    await expectEveryDoorRefuses(
      { bearer: forged },
      { status: 401, code: 'token_invalid', message: /signature does not verify/ },
    );
    await expectEveryDoorRefuses(
      { bearer: server.remember('not-a-jwt-at-all') },
      { status: 401, code: 'token_invalid', message: /malformed/ },
    );
  });

  it('answers 401 token_expired saying it is past exp, and when', async () => {
    const exp = nowSeconds() - 120;
    const expired = await server.token({ exp, iat: exp - 60, wallcast: { read: ['*'] } });
    const when = new Date(exp * 1000).toISOString();
    await expectEveryDoorRefuses(
      { bearer: expired },
      { status: 401, code: 'token_expired', message: new RegExp(`expired at ${when.replace(/\./g, '\\.')}`) },
    );
  });

  it('answers 401 token_expired saying it is before nbf, and when', async () => {
    const nbf = nowSeconds() + 600;
    const early = await server.token({ nbf, wallcast: { read: ['*'] } });
    const when = new Date(nbf * 1000).toISOString().replace(/\./g, '\\.');
    await expectEveryDoorRefuses(
      { bearer: early },
      { status: 401, code: 'token_expired', message: new RegExp(`not valid before ${when}`) },
    );
  });

  it('answers 403 insufficient_scope naming the wall and the action to a token without the grant', async () => {
    const elsewhere = await server.token({ wallcast: { read: ['team-z'], post: ['team-a'] } });
    for (const [door, open] of Object.entries(doors({ bearer: elsewhere }))) {
      const wall = door === 'longPoll' || door === 'mainStream' ? 'main' : 'team-a';
      const answer = await open();
      expectRefusal(answer, {
        status: 403,
        code: 'insufficient_scope',
        message: new RegExp(`^This token cannot read wall ${wall}\\.$`),
      });
      for (const message of secrets) expect(answer.text).not.toContain(message.body);
    }
    const reader = await server.token({ wallcast: { read: ['team-*'] } });
    const post = await server.call('/api/walls/team-b/messages', { bearer: reader, body: { body: 'no grant' } });
    expectRefusal(post, {
      status: 403,
      code: 'insufficient_scope',
      message: /^This token cannot post to wall team-b\.$/,
    });
  });

  it('lets a token with the read grant through every door (the refusals above are about the token)', async () => {
    const reader = await server.token({ wallcast: { read: ['team-*', 'main'] } });
    const open = doors({ bearer: reader });
    expect((await open.history()).json.messages.map((m: Message) => m.body)).toEqual(['PRIVATE-team-a-body']);
    expect((await open.message()).json.body).toBe('PRIVATE-team-a-body');
    expect((await open.stream()).text).toContain('PRIVATE-team-a-body');
    expect((await open.mainStream()).text).toContain('PRIVATE-main-body');
    expect((await open.presence()).json).toEqual({ wall: 'team-a', online: expect.any(Number) });
    const polled = await open.longPoll();
    expect(polled.status, polled.text).toBe(200);
    expect(polled.json.messages.map((m: { body: string }) => m.body)).toEqual(['PRIVATE-main-body']);
  });

  it("refuses a private wall's page with the small HTML error page and the challenge, none of its messages", async () => {
    const html = { Accept: 'text/html' };
    const exp = nowSeconds() - 120;
    const stale = await server.token({ exp, iat: exp - 60, wallcast: { read: ['*'] } });
    const outsider = await server.token({ wallcast: { read: ['team-z'] } });
    for (const [as, code, status] of [
      [{}, 'token_missing', 401],
      [{ cookie: `wallcast_token=${stale}` }, 'token_expired', 401],
      [{ bearer: outsider }, 'insufficient_scope', 403],
    ] as const) {
      for (const path of ['/w/team-a', '/w/main', '/']) {
        const page = await server.call(path, { ...as, headers: html, label: `${path} (${code})` });
        expect({ path, status: page.status, code: /data-code="([a-z_]+)"/.exec(page.text)?.[1] }).toEqual({
          path,
          status,
          code,
        });
        expect(page.headers['content-type']).toMatch(/^text\/html/);
        expect(page.headers['www-authenticate']).toMatch(/^Bearer realm="wallcast"/);
        expect(page.text).toMatch(/is private: reading needs a token|token expired at|token cannot read wall/);
        for (const message of secrets) expect(page.text).not.toContain(message.body);
      }
    }
    const reader = await server.token({ wallcast: { read: ['team-*'] } });
    const page = await server.call('/w/team-a', { cookie: `wallcast_token=${reader}`, headers: html });
    expect(page.status).toBe(200);
    expect(page.text).toContain('PRIVATE-team-a-body');
  });

  it('lists a private wall only to a token that may read it', async () => {
    const lobby = await server.token({ wallcast: { post: ['lobby'] } });
    expect((await server.call('/api/walls/lobby/messages', { bearer: lobby, body: { body: 'public' } })).status).toBe(
      201,
    );
    const names = async (bearer?: string) =>
      ((await server.call('/api/walls', { bearer })).json.walls as { wall: string }[]).map((w) => w.wall).sort();
    expect(await names()).toEqual(['lobby']);
    expect(await names(await server.token({ wallcast: { read: ['team-*'] } }))).toEqual(['lobby', 'team-a', 'team-b']);
    expectRefusal(await server.call('/api/walls', { bearer: server.remember('not-a-jwt') }), {
      status: 401,
      code: 'token_invalid',
    });
  });

  it('refuses a several-wall stream with one answer naming every private wall it may not read', async () => {
    const path = '/api/events?walls=team-a,lobby,team-b';
    const sse = { Accept: 'text/event-stream' };
    const anonymous = await server.call(path, { headers: sse });
    expectRefusal(anonymous, {
      status: 401,
      code: 'token_missing',
      message: /^Walls team-a and team-b are private: reading needs a token with a read grant for each\.$/,
    });
    const readsA = await server.token({ wallcast: { read: ['team-a'] } });
    expectRefusal(await server.call(path, { bearer: readsA, headers: sse }), {
      status: 403,
      code: 'insufficient_scope',
      message: /^This token cannot read wall team-b\.$/,
    });
    const readsNone = await server.token({ wallcast: { read: ['lobby'] } });
    const refused = await server.call(path, { bearer: readsNone, headers: sse });
    expectRefusal(refused, {
      status: 403,
      code: 'insufficient_scope',
      message: /^This token cannot read walls team-a and team-b\.$/,
    });
    expect(refused.text).not.toContain('PRIVATE-');
    const readsBoth = await server.token({ wallcast: { read: ['team-*'] } });
    const opened = await server.call(path, { bearer: readsBoth, headers: sse });
    expect(opened.status).toBe(200);
    expect(opened.text).toContain('PRIVATE-team-b-body');
  });

  it('ignores a token in ?token= or ?access_token=: the request has no token', async () => {
    const reader = await server.token({ wallcast: { read: ['team-*'] } });
    for (const path of [
      `/api/walls/team-a/messages?token=${reader}`,
      `/api/walls/team-a/messages?access_token=${reader}`,
      `/api/walls/team-a/events?access_token=${reader}`,
      `/api/walls/team-a/events?token=${reader}`,
    ]) {
      const answer = await server.call(path, { headers: { Accept: 'text/event-stream' }, label: path.split('?')[0] });
      expectRefusal(answer, { status: 401, code: 'token_missing' });
    }
  });

  it('refuses a malformed Authorization header as token_invalid, not as no token', async () => {
    const reader = await server.token({ wallcast: { read: ['team-*'] } });
    const answer = await server.call('/api/walls/lobby/messages', {
      headers: { Authorization: `Bearer ${reader} ${reader}` },
    });
    expectRefusal(answer, { status: 401, code: 'token_invalid', message: /one token, no spaces/ });
  });

  it('counts refusals by reason in /metrics', async () => {
    const counts = async () => {
      const text = (await server.call('/metrics', { headers: { Accept: 'text/plain' } })).text;
      const count = (reason: string) =>
        Number(new RegExp(`^wallcast_refusals_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
      return Object.fromEntries(
        ['token_missing', 'token_invalid', 'token_expired', 'ticket_invalid', 'insufficient_scope'].map((r) => [
          r,
          count(r),
        ]),
      );
    };
    const before = await counts();
    const exp = nowSeconds() - 120;
    await server.call('/api/walls/team-a/messages');
    await server.call('/api/walls/team-a/messages', { bearer: server.remember('not-a-jwt') });
    await server.call('/api/walls/team-a/messages', { bearer: await server.token({ exp, iat: exp - 1 }) });
    await server.call(`/api/walls/team-a/events?ticket=${'A'.repeat(32)}`, {
      headers: { Accept: 'text/event-stream' },
    });
    await server.call('/api/walls/team-a/messages', { bearer: await server.token() });
    const after = await counts();
    for (const reason of Object.keys(before)) expect(after[reason], reason).toBe((before[reason] ?? 0) + 1);
  });

  it('refuses a 16 KB token at once with the contract JSON (401 token_invalid)', async () => {
    const huge = server.remember(`${'x'.repeat(16 * 1024 - 20)}.y.z`);
    const started = performance.now();
    const answer = await server.call('/api/walls/lobby/messages', { bearer: huge, label: 'a 16 KB token' });
    expect(performance.now() - started).toBeLessThan(1000);
    expectRefusal(answer, { status: 401, code: 'token_invalid', message: /the limit is 8192/ });
    const stream = await server.call('/api/walls/team-a/events', {
      bearer: huge,
      headers: { Accept: 'text/event-stream' },
      label: 'a 16 KB token on a stream',
    });
    expectRefusal(stream, { status: 401, code: 'token_invalid', message: /the limit is 8192/ });
    const withCookie = await server.call('/api/walls/lobby/messages', {
      bearer: huge,
      cookie: server.remember(`wallcast_token=${'c'.repeat(12 * 1024)}`),
      label: 'a 16 KB token beside a 12 KB cookie',
    });
    expectRefusal(withCookie, { status: 401, code: 'token_invalid', message: /the limit is 8192/ });
  });

  it('answers headers over 32 KiB at once with Node’s own 431, not a hang', async () => {
    const started = performance.now();
    const answer = await server.call('/api/walls/lobby/messages', {
      bearer: server.remember('x'.repeat(40 * 1024)),
      label: 'a 40 KB token',
    });
    expect(performance.now() - started).toBeLessThan(1000);
    // Node's parser answers before the app sees the request: a bare 431, not the contract's JSON.
    expect(answer.status).toBe(431);
  });
});
