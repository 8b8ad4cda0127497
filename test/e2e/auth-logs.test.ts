/**
 * No token, ticket or cookie value ever reaches a log line (issue 16, "How
 * a token arrives"), the access log included: one real process
 * (`node dist/main.js`, built by `npm run build`) with the access log on at
 * debug level, every door exercised with bearer tokens, cookies, tickets
 * and bad tokens of every kind, then its whole output searched for each
 * value. (The in-process auth servers check their own logs the same way
 * when they close: test/support/auth-server.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Answer, type Call, call, expectNothingLogged, SECRET } from '../support/auth-server.js';
import { within } from '../support/deadlines.js';
import { claims, nowSeconds, secretText, signHmac, unsigned } from '../support/jwt.js';
import { spawnWallcast, type WallcastProcess } from '../support/process.js';

const PUBLISH = 'publish-token-for-the-log-test-0123';
const ADMIN = 'admin-token-for-the-log-test-4567';
const XSRF = 'xsrfxsrfxsrfxsrfxsrfxsrf0123';

describe('credentials in the logs of a real process', () => {
  let proc: WallcastProcess;
  /** Every credential value sent to the process. */
  const values = new Set<string>([SECRET, PUBLISH, ADMIN, XSRF]);
  const remember = <T extends string>(value: T): T => {
    values.add(value);
    return value;
  };
  const token = async (extra: Record<string, unknown>) => remember(await signHmac(claims(extra), SECRET));

  beforeAll(async () => {
    proc = await spawnWallcast({
      WALLCAST_STORE: 'memory',
      WALLCAST_JWT_SECRET: SECRET,
      WALLCAST_PRIVATE_WALLS: 'team-*,main',
      WALLCAST_OPEN_WALLS: 'guestbook',
      WALLCAST_PUBLISH_TOKEN: PUBLISH,
      WALLCAST_ADMIN_TOKEN: ADMIN,
      WALLCAST_ACCESS_LOG: 'on',
      WALLCAST_LOG_LEVEL: 'debug',
      WALLCAST_LOG_FORMAT: 'json',
      WALLCAST_LONGPOLL_MS: '200',
    });
  });
  afterAll(() => {
    if (proc !== undefined && proc.child.exitCode === null) proc.child.kill('SIGKILL');
  });

  it('logs no token, ticket or cookie value, whatever door they came through, good or bad', async () => {
    const answers: Answer[] = [];
    const send = async (path: string, options: Call = {}) => {
      const answer = await call(proc.url, path, options);
      answers.push(answer);
      return answer;
    };
    const sse = { Accept: 'text/event-stream' };
    const all = await token({ name: 'Ann', wallcast: { read: ['*'], post: ['*'], moderate: ['*'] } });
    const cookie = `_xsrf=${XSRF}; wallcast_token=${all}`;
    const sameSite = { Origin: proc.url };

    // Every door with a good bearer token, and with the cookie.
    for (const as of [{ bearer: all }, { cookie, headers: sameSite }]) {
      const posted = await send('/api/walls/team-a/messages', { ...as, body: { body: 'hello' } });
      expect(posted.status, posted.text).toBe(201);
      await send('/api/walls/team-a/messages', { ...as, form: { body: 'from a form' } });
      await send('/api/walls/team-a/messages', as);
      await send(`/api/walls/team-a/messages/${posted.json.id}`, as);
      await send('/api/walls/team-a/presence', as);
      await send('/api/walls', as);
      await send('/api/walls/team-a/events', { ...as, headers: { ...as.headers, ...sse } });
      await send('/api/events?walls=team-a,team-b', { ...as, headers: { ...as.headers, ...sse } });
      await send('/api/events', { ...as, headers: { ...as.headers, ...sse } });
      await send('/a/message/new', { ...as, cookie, form: { body: 'chat.js', _xsrf: XSRF } });
      await send('/a/message/updates', { ...as, cookie, form: { cursor: '', _xsrf: XSRF } });
      await send('/w/team-a', { ...as, headers: { ...as.headers, Accept: 'text/html' } });
      await send(`/api/walls/team-a/messages/${posted.json.id}`, { ...as, method: 'DELETE' });
      const issued = await send('/api/tickets', { ...as, body: { walls: ['team-a', 'team-b'] } });
      expect(issued.status, issued.text).toBe(201);
      const ticket = remember(issued.json.ticket as string);
      const streamed = await send(`/api/events?walls=team-a,team-b&ticket=${ticket}`, { headers: sse });
      expect(streamed.status).toBe(200);
      // Replayed, and on a URL that is no stream.
      expect((await send(`/api/walls/team-a/events?ticket=${ticket}`, { headers: sse })).status).toBe(401);
      expect((await send(`/api/walls/team-a/messages?ticket=${ticket}`)).status).toBe(401);
    }
    // The shared tokens.
    await send('/api/walls/lobby/messages', { bearer: PUBLISH, body: { body: 'published' } });
    await send('/api/walls/lobby/messages', { bearer: ADMIN });
    // Bad tokens of every kind, as bearer and as cookie, on reads, streams, posts and tickets.
    const exp = nowSeconds() - 120;
    const bad = [
      remember('not-a-jwt'),
      remember('eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2lnbmF0dXJlLW9mLWEtbWFsZm9ybWVkLXRva2Vu'),
      await token({ exp, iat: exp - 60, wallcast: { read: ['*'] } }),
      remember(await signHmac(claims({ wallcast: { read: ['*'] } }), secretText(64))),
      remember(unsigned(claims({ wallcast: { read: ['*'] } }))),
      remember(`${'a'.repeat(16 * 1024)}.b.c`),
    ];
    for (const value of bad) {
      const label = `a bad token (${value.slice(0, 12)}…)`;
      for (const as of [{ bearer: value }, { cookie: `wallcast_token=${value}` }]) {
        const refused = await send('/api/walls/team-a/messages', { ...as, label });
        expect(refused.status, label).toBe(401);
        await send('/api/walls/team-a/events', { ...as, headers: sse, label });
        await send('/api/walls/guestbook/messages', { ...as, body: { body: 'x' }, label });
        await send('/api/tickets', { ...as, body: { walls: ['team-a'] }, label });
        await send('/a/message/updates', { ...as, form: { cursor: '', _xsrf: XSRF }, label });
      }
    }
    const unknownTicket = remember('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect((await send(`/api/walls/team-a/events?ticket=${unknownTicket}`, { headers: sse })).status).toBe(401);
    for (const name of ['token', 'access_token']) {
      const inUrl = await send(`/api/walls/team-a/messages?${name}=${all}`);
      expect(inUrl.status).toBe(401);
    }
    const crossSite = await send('/api/walls/team-a/messages', {
      cookie,
      headers: { Origin: 'https://evil.example' },
      body: { body: 'x' },
    });
    expect(crossSite.status).toBe(403);
    expect(answers.some((answer) => answer.status >= 500)).toBe(false);

    proc.child.kill('SIGTERM');
    expect(await within('the process exits after SIGTERM', 8000, proc.exited)).toBe(0);
    const output = proc.output();
    // The log is the one asked for: debug level, one access line per request.
    expect(output).toMatch(/"logLevel":"debug"/);
    const accessLines = output.split('\n').filter((line) => line.includes('"component":"access"'));
    expect(accessLines.length).toBeGreaterThanOrEqual(answers.length - 5);
    expectNothingLogged(output, values);
  });
});
