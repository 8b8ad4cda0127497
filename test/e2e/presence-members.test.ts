/**
 * Who is here by name, and who may ask (issue 17 with issue 16's tokens):
 * `presence=members` lists the first 100 people with a token by arrival and
 * counts the rest in `more`; people without a token count and are never
 * listed; on a private wall, presence is told only to a token that can read
 * it. A real server, tokens signed by jose.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { newWall } from '../support/presence.js';
import {
  bearer,
  closeAll,
  getPresence,
  heard,
  onlineNow,
  openStream,
  refusedStream,
  SECRET,
  untilHeard,
  untilSettled,
} from '../support/presence-streams.js';
import { startTestServer } from '../support/server.js';
import type { RawSse } from '../support/sse-reader.js';

const GRACE_MS = 400;
const TEAM = { wallcast: { read: ['team-*'] } };

describe('presence members and private walls', () => {
  let server: RunningServer;
  let base: string;
  const opened: RawSse[] = [];

  async function stream(path: string, headers: Record<string, string> = {}): Promise<RawSse> {
    const sse = await openStream(base, path, headers);
    opened.push(sse);
    return sse;
  }

  const refused = (path: string, headers: Record<string, string> = {}) => refusedStream(base, path, headers);

  beforeAll(async () => {
    server = await startTestServer({
      WALLCAST_JWT_SECRET: SECRET,
      WALLCAST_PRIVATE_WALLS: 'team-*',
      WALLCAST_PRESENCE_GRACE_MS: String(GRACE_MS),
    });
    base = server.url;
    await untilSettled(server);
  });
  afterEach(() => closeAll(opened.splice(0)));
  afterAll(() => server.close());

  it('lists the first 100 people with a token by arrival, counts the rest in more, and never lists the anonymous', async () => {
    const wall = newWall();
    const events = `/api/walls/${wall}/events?backlog=0`;
    const watcher = await stream(`${events}&presence=members`, await bearer('watcher', { name: 'Wanda' }));
    const counter = await stream(`${events}&presence=count&client=counter-1`);
    const members: RawSse[] = [];
    for (let i = 0; i < 102; i++) {
      const sub = `m${String(i).padStart(3, '0')}`;
      members.push(await stream(events, await bearer(sub, { name: `Member ${i}` })));
    }
    // A second stream of a member changes nothing; people without a token count and are not listed.
    await stream(`${events}&client=browser-A`, await bearer('m007', { name: 'Member 7' }));
    await stream(`${events}&client=browser-A`);
    await stream(events);
    const expected = ['watcher', ...Array.from({ length: 99 }, (_, i) => `m${String(i).padStart(3, '0')}`)];
    await untilHeard(watcher, '106 people, 103 with a token', 106);
    const last = heard(watcher).at(-1);
    expect(last?.members?.map((member) => member.id)).toEqual(expected);
    expect(last?.members?.slice(0, 2)).toEqual([
      { id: 'watcher', name: 'Wanda' },
      { id: 'm000', name: 'Member 0' },
    ]);
    expect(last?.more).toBe(3);
    // A count stream of the same wall hears the count alone.
    await untilHeard(counter, 'the count stream hears 106', 106);
    expect(heard(counter).at(-1)).toEqual({ wall, online: 106 });
    expect(await getPresence(base, wall)).toEqual({ status: 200, json: { wall, online: 106 } });

    // The first to arrive after the watcher leaves: past the grace, the 101st to arrive moves into the list.
    members[0]?.close();
    await watcher.waitFor('m000 gone from the list', (s) => heard(s).at(-1)?.members?.[1]?.id === 'm001', 3000);
    const after = heard(watcher).at(-1);
    expect(after).toMatchObject({ wall, online: 105, more: 2 });
    expect(after?.members?.at(-1)).toEqual({ id: 'm099', name: 'Member 99' });
  });

  it('refuses presence=members to a stream without a token, and to a token that cannot read the wall', async () => {
    const open = newWall();
    expect(await refused(`/api/walls/${open}/events?presence=members`)).toEqual({ status: 401, code: 'token_missing' });
    expect(await refused(`/api/events?walls=${open},team-x&presence=members`)).toEqual({
      status: 401,
      code: 'token_missing',
    });
    expect(await refused(`/api/walls/team-x/events?presence=members`, await bearer('outsider'))).toEqual({
      status: 403,
      code: 'insufficient_scope',
    });
    expect(server.deps.hub.size).toBe(0);
    // Any token may read an open wall, and so list its members.
    const outsider = await stream(`/api/walls/${open}/events?presence=members`, await bearer('outsider'));
    await outsider.waitFor('the member list', (s) => heard(s).length === 1);
    expect(heard(outsider)[0]).toEqual({
      wall: open,
      online: 1,
      members: [{ id: 'outsider', name: 'outsider' }],
      more: 0,
    });
  });

  it('tells the presence of a private wall only to a token that can read it, by GET and by stream', async () => {
    const wall = `team-${newWall()}`;
    const reader = await bearer('reader', TEAM);
    const outsider = await bearer('outsider');
    expect(await getPresence(base, wall)).toMatchObject({ status: 401, json: { error: { code: 'token_missing' } } });
    expect(await getPresence(base, wall, outsider)).toMatchObject({
      status: 403,
      json: { error: { code: 'insufficient_scope' } },
    });
    for (const presence of ['count', 'members']) {
      const path = `/api/walls/${wall}/events?presence=${presence}`;
      expect(await refused(path), presence).toEqual({ status: 401, code: 'token_missing' });
      expect(await refused(path, outsider), presence).toEqual({ status: 403, code: 'insufficient_scope' });
    }
    expect(await refused(`/api/events?walls=${newWall()},${wall}&presence=count`)).toEqual({
      status: 401,
      code: 'token_missing',
    });
    expect(server.deps.hub.size).toBe(0);
    const watching = await stream(`/api/walls/${wall}/events?presence=members`, reader);
    await stream(`/api/events?walls=${newWall()},${wall}&presence=count`, await bearer('teammate', TEAM));
    await untilHeard(watching, 'the reader and a teammate', 2);
    expect(
      heard(watching)
        .at(-1)
        ?.members?.map((member) => member.id),
    ).toEqual(['reader', 'teammate']);
    expect(await getPresence(base, wall, reader)).toEqual({ status: 200, json: { wall, online: 2 } });
    expect(await onlineNow(base, newWall())).toBe(0);
  });
});
