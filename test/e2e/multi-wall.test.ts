/**
 * One connection that follows several walls (`/api/events?walls=a,b`), and
 * the HTML-fragment stream for htmx (`format=html`): on real sockets, with
 * the raw reader for exact frames and the eventsource package for resumes.
 */
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/message.js';
import { until } from '../support/deadlines.js';
import { getJson, postJson, postMessage } from '../support/http.js';
import { type ServerUnderTest, startServerUnderTest, TEST_WORKERS } from '../support/server-under-test.js';
import { RawSse } from '../support/sse-reader.js';

describe('a stream of several walls', () => {
  let server: ServerUnderTest;
  let base: string;
  beforeAll(async () => {
    server = await startServerUnderTest({ WALLCAST_BACKLOG: '2', WALLCAST_ADMIN_TOKEN: 'admin-token-1' });
    base = server.url;
  });
  afterAll(() => server.close());

  const post = (wall: string, body: string) => postMessage(base, wall, body);
  const stream = (walls: string, headers: Record<string, string> = {}, query = '') =>
    new RawSse(`${base}/api/events?walls=${walls}${query}`, headers);

  it('starts with each wall’s backlog, then both walls live, every id naming both positions', async () => {
    const a1 = await post('ma', 'a1');
    const a2 = await post('ma', 'a2');
    const b1 = await post('mb', 'b1');
    const sse = stream('ma,mb');
    await sse.waitForMessages(3, 'both backlogs');
    const a3 = await post('ma', 'a3');
    const b2 = await post('mb', 'b2');
    await sse.waitForMessages(5, 'live from both');
    expect(sse.messages().map((m) => m.body)).toEqual(['a1', 'a2', 'b1', 'a3', 'b2']);
    const ids = sse.frames.filter((f) => f.data !== undefined).map((f) => f.id);
    expect(ids).toEqual([
      `ma:${a1.cursor}`,
      `ma:${a2.cursor}`,
      `ma:${a2.cursor},mb:${b1.cursor}`,
      `ma:${a3.cursor},mb:${b1.cursor}`,
      `ma:${a3.cursor},mb:${b2.cursor}`,
    ]);
    expect(await server.metric('wallcast_subscribers')).toBeGreaterThanOrEqual(1);
    sse.close();
  });

  it('resumes every wall exactly from the id, whatever was posted to each meanwhile', async () => {
    await post('ra', 'ra0');
    await post('rb', 'rb0');
    const first = stream('ra,rb');
    await first.waitForMessages(2, 'backlogs');
    const lastId = first.frames.filter((f) => f.id !== undefined).at(-1)?.id as string;
    first.close();
    const [ra1, rb1, ra2] = [await post('ra', 'ra1'), await post('rb', 'rb1'), await post('ra', 'ra2')];
    const resumed = stream('ra,rb', { 'Last-Event-ID': lastId });
    await resumed.waitForMessages(3, 'what was missed');
    // Each wall in its own order; a replay goes wall by wall, as the stream lists them.
    expect(resumed.messages().map((m) => m.id)).toEqual([ra1?.id, ra2?.id, rb1?.id]);
    expect(resumed.frames.some((f) => f.event === 'reset')).toBe(false);
    const live = await post('rb', 'rb2');
    await resumed.waitForMessages(4, 'live after the replay');
    expect(resumed.messages().at(-1)?.id).toBe(live.id);
    resumed.close();
  });

  it('gives a fresh stream of empty walls an id-only event naming every head, and resumes from it', async () => {
    const sse = stream('ea,eb', {}, '&backlog=0');
    await sse.waitFor('id-only position', (s) => s.frames.some((f) => f.id !== undefined));
    const head = sse.frames.find((f) => f.id !== undefined);
    expect(head?.data).toBeUndefined();
    expect(head?.id).toMatch(/^ea:[^,]+,eb:[^,]+$/);
    sse.close();
    const later = await post('eb', 'after the head');
    const resumed = stream('ea,eb', { 'Last-Event-ID': head?.id as string });
    await resumed.waitForMessages(1, 'the post after the head');
    expect(resumed.messages().map((m) => m.id)).toEqual([later.id]);
    resumed.close();
  });

  it('answers an id that is no position of these walls with a reset per wall, never a guess', async () => {
    await post('xa', 'xa0');
    await post('xb', 'xb0');
    const plainCursor = (await post('xa', 'xa1')).cursor;
    const sse = stream('xa,xb', { 'Last-Event-ID': plainCursor });
    await sse.waitFor('two resets', (s) => s.frames.filter((f) => f.event === 'reset').length === 2);
    const resets = sse.frames.filter((f) => f.event === 'reset').map((f) => JSON.parse(f.data as string));
    expect(resets).toEqual([
      { reason: 'malformed', wall: 'xa' },
      { reason: 'malformed', wall: 'xb' },
    ]);
    await sse.waitForMessages(3, 'the newest of each wall');
    sse.close();
  });

  // Workers: test/e2e/workers.test.ts cuts streams by killing a worker instead.
  it.skipIf(TEST_WORKERS > 1)('resumes through the eventsource client across a drop, each message once', async () => {
    const seen: string[] = [];
    const source = new EventSource(`${base}/api/events?walls=ea1,eb1`);
    source.addEventListener('message', (event) => seen.push(JSON.parse(event.data).body));
    await until('open', 3000, () => source.readyState === EventSource.OPEN);
    await post('ea1', 'before');
    await until('first', 3000, () => seen.length === 1);
    server.inProcess?.deps.hub.disconnectAll();
    await post('eb1', 'away 1');
    await post('ea1', 'away 2');
    await until('reconnected and caught up', 8000, () => seen.length >= 3);
    await post('eb1', 'after');
    await until('all four', 5000, () => seen.length >= 4);
    // What was missed comes wall by wall (ea1's, then eb1's), each once.
    expect(seen).toEqual(['before', 'away 2', 'away 1', 'after']);
    source.close();
  });

  it('carries deletes with their wall', async () => {
    const doomed = await post('da', 'to delete');
    const sse = stream('da,db', {}, '&backlog=0');
    await sse.waitFor('open', (s) => s.frames.some((f) => f.id !== undefined));
    const res = await fetch(`${base}/api/walls/da/messages/${doomed.id}`, {
      method: 'DELETE',
      headers: { Authorization: 'Bearer admin-token-1' },
    });
    expect(res.status).toBe(204);
    await sse.waitFor('delete', (s) => s.frames.some((f) => f.event === 'delete'));
    const frame = sse.frames.find((f) => f.event === 'delete');
    expect(JSON.parse(frame?.data as string)).toEqual({ id: doomed.id });
    expect(frame?.id).toMatch(/^da:[^,]+,db:/);
    sse.close();
  });

  it('refuses walls on a one-wall path, more than 32 walls, or an invalid name', async () => {
    const cases = [
      `/api/walls/one/events?walls=a,b`,
      `/api/events?walls=${Array.from({ length: 33 }, (_, i) => `w${i}`).join(',')}`,
      '/api/events?walls=ok,Not-Valid',
      '/api/events?walls=',
    ];
    for (const path of cases) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(400);
      expect((await res.json()).error.code, path).toBe('invalid_wall');
    }
  });
});

describe('the HTML stream for htmx', () => {
  let server: ServerUnderTest;
  beforeAll(async () => {
    server = await startServerUnderTest({ WALLCAST_ADMIN_TOKEN: 'admin-token-1' });
  });
  afterAll(() => server.close());

  it('sends each message’s escaped fragment as data, deletes as out-of-band deletes, and resumes', async () => {
    const old = (await postJson(server.url, '/api/walls/hx/messages', { body: 'already <here>' })).json as Message;
    const sse = new RawSse(`${server.url}/api/walls/hx/events?format=html`);
    await sse.waitFor('the backlog fragment', (s) => s.frames.some((f) => f.data?.startsWith('<div')));
    const live = (await postJson(server.url, '/api/walls/hx/messages', { body: 'line 1\nline 2' })).json as Message;
    await sse.waitFor('the live fragment', (s) => s.frames.filter((f) => f.data?.startsWith('<div')).length === 2);
    const fragments = sse.frames.filter((f) => f.data?.startsWith('<div'));
    expect(fragments.map((f) => f.data)).toEqual([old.html, live.html]);
    expect(fragments.map((f) => f.id)).toEqual([old.cursor, live.cursor]);
    expect(fragments.every((f) => f.event === undefined)).toBe(true);
    await fetch(`${server.url}/api/walls/hx/messages/${old.id}`, {
      method: 'DELETE',
      headers: { Authorization: 'Bearer admin-token-1' },
    });
    await sse.waitFor('delete', (s) => s.frames.some((f) => f.event === 'delete'));
    expect(sse.frames.find((f) => f.event === 'delete')?.data).toBe(`<div id="m${old.id}" hx-swap-oob="delete"></div>`);
    sse.close();
    const resumed = new RawSse(`${server.url}/api/walls/hx/events?format=html`, { 'Last-Event-ID': old.cursor });
    await resumed.waitFor('replayed fragment and delete', (s) => s.frames.some((f) => f.event === 'delete'));
    expect(resumed.frames.filter((f) => f.data?.startsWith('<div ')).map((f) => f.data)).toContain(live.html);
    resumed.close();
  });

  it('refuses an unknown format', async () => {
    const res = await fetch(`${server.url}/api/walls/hx/events?format=xml`);
    expect(res.status).toBe(400);
    expect((await getJson(server.url, '/api/walls/hx/messages')).status).toBe(200);
  });
});
