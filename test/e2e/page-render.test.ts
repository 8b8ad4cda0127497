/**
 * The server's side of the page (issue 18, points 1, 2 and 6), over real
 * HTTP: the no-JS "Older messages" link through the whole history with no
 * message twice or skipped, `before=` at its edges, the way to the wall
 * meant by a mistyped address, the error pages in the wall's look (API
 * clients keep the JSON), the grouping a page without JavaScript gets, and
 * the slot for a token's reader (issue 16) as the lead will fill it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message, NewMessage } from '../../src/message.js';
import { createMessage } from '../../src/posting.js';
import type { RunningServer } from '../../src/server.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { type ReadQuery, type ReadResult, StoreUnavailableError } from '../../src/store/store.js';
import * as serverAuthors from '../../src/views/authors.js';
import { renderWallPage } from '../../src/views/wall-page.js';
import { postJson } from '../support/http.js';
import { startTestServer } from '../support/server.js';

/** The bodies a page shows, in order (the bodies here are plain words: nothing to unescape). */
function bodiesOf(html: string): string[] {
  return [...html.matchAll(/<span class="body" dir="auto">([^<]*)<\/span>/g)].map((m) => m[1] as string);
}

/** The page's "Older messages" link, if it has one. */
function olderLink(html: string): string | undefined {
  return /<a class="older" href="([^"]+)"/.exec(html)?.[1]?.replaceAll('&amp;', '&');
}

/** The page's own copy of the rules (a plain module; its path is a URL so that tsc leaves it to the test). */
const pageAuthors = (await import(new URL('../../public/authors.js', import.meta.url).href)) as typeof serverAuthors;

const get = (base: string, path: string, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { headers: { Accept: 'text/html', ...headers }, redirect: 'manual' });

describe('the page as the server renders it', () => {
  let server: RunningServer;
  let base: string;
  beforeAll(async () => {
    server = await startTestServer({ WALLCAST_BACKLOG: '20', WALLCAST_HISTORY: '200' });
    base = server.url;
  });
  afterAll(() => server.close());

  const postMany = async (wall: string, count: number, from = 0) => {
    const posted: Message[] = [];
    for (let i = from; i < from + count; i++) {
      posted.push((await postJson(base, `/api/walls/${wall}/messages`, { body: `m${i}`, author: 'Ann' })).json);
    }
    return posted;
  };

  it('pages through the whole history by the no-JS "Older messages" link: every message once, in order, then the beginning', async () => {
    const posted = await postMany('chain', 53);
    const seen: string[][] = [];
    let path: string | undefined = '/w/chain';
    let last = '';
    while (path !== undefined) {
      const res = await get(base, path);
      expect(res.status, path).toBe(200);
      last = await res.text();
      seen.unshift(bodiesOf(last));
      path = olderLink(last);
    }
    expect(seen.map((page) => page.length)).toEqual([13, 20, 20]);
    expect(seen.flat()).toEqual(posted.map((m) => m.body));
    expect(last).toContain('This is the beginning of #chain.');
    const first = await (await get(base, `/w/chain?before=${encodeURIComponent(posted[13]?.cursor ?? '')}`)).text();
    expect(bodiesOf(first)).toEqual(posted.slice(0, 13).map((m) => m.body));
    expect(first).toContain('This is the beginning of #chain.');
    expect(olderLink(first)).toBeUndefined();
    // Before the very first message there is nothing: the page says so, and shows the newest.
    const before0 = await (await get(base, `/w/chain?before=${encodeURIComponent(posted[0]?.cursor ?? '')}`)).text();
    expect(before0).toContain('There is nothing in #chain before that point: these are the newest messages.');
    expect(bodiesOf(before0)).toEqual(posted.slice(-20).map((m) => m.body));
    // A page of the history goes live from its newest message (the script brings the rest), and links forward.
    expect(first).toContain(`data-cursor="${posted[12]?.cursor}"`);
    expect(first).toContain(`href="/w/chain?after=${encodeURIComponent(posted[12]?.cursor ?? '')}">Newer messages</a>`);
  });

  it('offers older messages only when there are some: a wall of exactly one page has none, one more message makes a link', async () => {
    await postMany('exact', 20);
    const exact = await (await get(base, '/w/exact')).text();
    expect(bodiesOf(exact)).toHaveLength(20);
    expect(olderLink(exact)).toBeUndefined();
    expect(exact).toContain('This is the beginning of #exact.');
    await postMany('exact', 1, 20);
    const more = await (await get(base, '/w/exact')).text();
    expect(bodiesOf(more)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i + 1}`));
    expect(olderLink(more)).toMatch(/^\/w\/exact\?before=/);
    const older = await (await get(base, olderLink(more) as string)).text();
    expect(bodiesOf(older)).toEqual(['m0']);
  });

  it('pages forward with ?after= and lands on the wall itself once it reaches the newest', async () => {
    const posted = await postMany('forward', 45);
    const middle = await (await get(base, `/w/forward?after=${encodeURIComponent(posted[4]?.cursor ?? '')}`)).text();
    expect(bodiesOf(middle)).toEqual(posted.slice(5, 25).map((m) => m.body));
    const end = await get(base, `/w/forward?after=${encodeURIComponent(posted[30]?.cursor ?? '')}`);
    expect(end.status).toBe(303);
    expect(end.headers.get('location')).toBe('/w/forward');
  });

  it('says so and shows the newest when before= names a point no longer in the history: trimmed, another epoch, malformed', async () => {
    const small = await startTestServer({ WALLCAST_BACKLOG: '3', WALLCAST_HISTORY: '5' });
    try {
      const first = (await postJson(small.url, '/api/walls/trim/messages', { body: 'the first' })).json as Message;
      for (let i = 0; i < 8; i++) await postJson(small.url, '/api/walls/trim/messages', { body: `later ${i}` });
      const otherEpoch = first.cursor.replace(/^[^-]+/, 'zzzzzzzz');
      for (const cursor of [first.cursor, otherEpoch, 'not-a-cursor']) {
        const res = await get(small.url, `/w/trim?before=${encodeURIComponent(cursor)}`);
        expect(res.status, cursor).toBe(200);
        const html = await res.text();
        expect(html, cursor).toContain(
          'That point of #trim is no longer in its history: these are the newest messages.',
        );
        expect(bodiesOf(html), cursor).toEqual(['later 5', 'later 6', 'later 7']);
      }
    } finally {
      await small.close();
    }
  });

  it('refuses a before= that cannot be a cursor with a 400 page, and a JSON error for an API client', async () => {
    const res = await get(base, `/w/chain?before=${'x'.repeat(65)}`);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('data-code="invalid_cursor"');
    const api = await get(base, '/w/chain?before=%0A', { Accept: 'application/json' });
    expect(api.status).toBe(400);
    expect((await api.json()).error.code).toBe('invalid_cursor');
  });

  it('leads a name in upper case, with a trailing slash, or typed in the box to the wall meant', async () => {
    const cases: [string, number, string][] = [
      ['/w/Team', 301, '/w/team'],
      ['/w/team/', 301, '/w/team'],
      ['/w/Team/', 301, '/w/team'],
      ['/w/Team?before=abc-1', 301, '/w/team?before=abc-1'],
      ['/w/Team%20Chat', 301, '/w/team-chat'],
      ['/w/MAIN', 301, '/'],
      ['/w?wall=%23Team', 303, '/w/team'],
      ['/w?wall=+team+chat+', 303, '/w/team-chat'],
      ['/w?wall=main', 303, '/'],
      ['/w?wall=', 303, '/'],
    ];
    for (const [path, status, location] of cases) {
      const res = await get(base, path);
      expect(res.status, path).toBe(status);
      expect(res.headers.get('location'), path).toBe(location);
    }
    const meaningless = await get(base, '/w?wall=no!such');
    expect(meaningless.status).toBe(400);
    const html = await meaningless.text();
    expect(html).toContain('That is not a wall name');
    expect(html).toContain('<form class="open-wall" id="open-wall" method="get" action="/w">');
  });

  it('answers an unknown path with an error page in the wall’s look that links to the wall meant; API clients get JSON', async () => {
    const res = await get(base, '/w/Team/extra');
    expect(res.status).toBe(404);
    const html = await res.text();
    expect(html).toContain('<header class="bar">');
    expect(html).toContain('<nav id="walls" class="walls" aria-label="Walls"');
    expect(html).toContain('<p class="suggestion">Did you mean <b>#team</b>?</p>');
    expect(html).toContain('<a class="button" id="meant" href="/w/team">Open #team</a>');
    const nowhere = await (await get(base, '/no/such/page')).text();
    expect(nowhere).toContain('Nothing here');
    expect(nowhere).not.toContain('id="meant"');
    const api = await get(base, '/w/team/extra', { Accept: 'application/json' });
    expect(api.status).toBe(404);
    expect((await api.json()).error.code).toBe('not_found');
    // An API path is never redirected: its client keeps the contract's error.
    const wrongCase = await get(base, '/api/walls/Team/messages', { Accept: 'application/json' });
    expect(wrongCase.status).toBe(400);
    expect((await wrongCase.json()).error.code).toBe('invalid_wall');
  });

  it('renders days and groups for a page without JavaScript, in the zone the page’s cookie names', async () => {
    const HOUR = 3600_000;
    const now = Date.now();
    const store = server.deps.store;
    await store.append(createMessage('nojs-groups', 'Ann', 'yesterday', new Date(now - 30 * HOUR)));
    await store.append(createMessage('nojs-groups', 'Ann', 'today', new Date(now - 2 * 60_000)));
    await store.append(createMessage('nojs-groups', 'Ann', 'a minute on', new Date(now - 60_000)));
    await store.append(createMessage('nojs-groups', '', 'who said this?', new Date(now)));
    const html = await (await get(base, '/w/nojs-groups', { Cookie: 'wallcast_tz=Asia/Tokyo' })).text();
    expect(html).toContain('data-time-zone="Asia/Tokyo"');
    expect(
      [...html.matchAll(/<h2 class="day"><time datetime="[^"]+">([^<]+)<\/time><\/h2>/g)].map((m) => m[1]),
    ).toEqual(['Yesterday', 'Today']);
    expect(html.match(/<article class="group"/g)).toHaveLength(3);
    expect(html).toContain('<span class="name anonymous">anonymous</span>');
    expect(html).toContain(`<span class="avatar hue-${serverAuthors.hueOf('name:Ann')}" aria-hidden="true">A</span>`);
    // A zone that is none falls back to UTC, said as such.
    const utc = await (await get(base, '/w/nojs-groups', { Cookie: 'wallcast_tz=Mars/Olympus' })).text();
    expect(utc).toContain('data-time-zone="UTC"');
    expect(utc).toMatch(/<time datetime="[^"]+" title="[^"]+ UTC">\d{1,2}:\d{2} [AP]M UTC<\/time>/);
  });
});

/** A memory store whose reads fail, as a store that is down does. */
class DownStore extends MemoryStore {
  override async read(_wall: string, _query: ReadQuery): Promise<ReadResult> {
    throw new StoreUnavailableError('the test took the store down');
  }
}

describe('the page when the store is down', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({}, new DownStore({ historySize: 100, historyBytes: 1_000_000, maxWalls: 100 }));
  });
  afterAll(() => server.close());

  it('answers 503 with an error page in the wall’s look that offers to try again', async () => {
    const res = await get(server.url, '/w/down');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    const html = await res.text();
    expect(html).toContain('<title>503 Not available right now · wallcast</title>');
    expect(html).toContain('<h1 class="title"><span class="wall-name">#down</span></h1>');
    expect(html).toContain('<a class="button" id="again" href="/w/down">Try again</a>');
    expect(html).toContain('The message store is not available. Try again shortly.');
  });
});

describe('the page’s authors, avatars and groups', () => {
  it('computes the same key, colour and initials on the server and in the page', () => {
    const names = [
      'Ann',
      'ann',
      'Ann Lee',
      ' Jean-Luc  Picard ',
      'Ωmega',
      'محمد علي',
      '李雷',
      '🎉',
      '@bob',
      'x'.repeat(64),
    ];
    for (const name of names) {
      for (const id of [null, 'u42', undefined]) {
        const key = serverAuthors.authorKey(name, id);
        expect(pageAuthors.authorKey(name, id), name).toBe(key);
        expect(pageAuthors.hueOf(key), name).toBe(serverAuthors.hueOf(key));
      }
      expect(pageAuthors.initialsOf(name), name).toBe(serverAuthors.initialsOf(name));
    }
    expect(serverAuthors.initialsOf('Ann Lee')).toBe('AL');
    expect(serverAuthors.initialsOf(' jean-luc  picard ')).toBe('JP');
    expect(serverAuthors.authorKey('', null)).toBe('');
    // The colours are spread: a dozen names are not all one colour.
    expect(new Set(names.map((name) => serverAuthors.hueOf(`name:${name}`))).size).toBeGreaterThan(5);
    const point = (key: string, atMs: number, day = '2024-03-03') => ({ key, atMs, day });
    for (const rules of [serverAuthors, pageAuthors]) {
      expect(rules.continuesGroup(point('name:a', 0), point('name:a', rules.GROUP_WINDOW_MS))).toBe(true);
      expect(rules.continuesGroup(point('name:a', 0), point('name:a', rules.GROUP_WINDOW_MS + 1))).toBe(false);
      expect(rules.continuesGroup(point('', 0), point('', 1))).toBe(false);
      expect(rules.continuesGroup(point('name:a', 0), point('id:a', 1))).toBe(false);
      expect(rules.continuesGroup(point('name:a', 0), point('name:a', 1, '2024-03-04'))).toBe(false);
    }
  });

  it('marks a verified author, and gives a token’s reader "Posting as", their own posts, or a notice instead of the form', () => {
    const verified = (author: string, authorId: string | null): Message & { authorId: string | null } => {
      const draft: NewMessage = createMessage('tokens', author, `by ${author}`, new Date('2024-03-03T10:00:00Z'));
      return { ...draft, cursor: `c-${author}`, authorId };
    };
    const view = { messages: [verified('Ann', 'u42'), verified('Ann', null)], cursor: 'c-Ann' };
    const options = {
      maxBodyChars: 2000,
      postKey: 'k',
      postingNeedsToken: false,
      nowMs: Date.parse('2024-03-03T12:00:00Z'),
    };
    const html = renderWallPage('tokens', view, { ...options, viewer: { name: 'Ann', canPost: true, id: 'u42' } });
    // The verified Ann and the Ann who only typed the name are two groups, of two colours.
    expect(html.match(/<article class="group/g)).toHaveLength(2);
    expect(html).toContain('<article class="group own" data-author-id="u42">');
    expect(html).toContain('<span class="verified" title="Verified author (u42)">');
    expect(html).toContain(`hue-${serverAuthors.hueOf('id:u42')} verified`);
    expect(html).toContain('<p class="identity posting-as">Posting as <b><bdi>Ann</bdi></b></p>');
    expect(html).not.toContain('name="author"');
    expect(html).toContain('data-presence="members"');
    const reader = renderWallPage('tokens', view, { ...options, viewer: { name: 'Ann', canPost: false } });
    expect(reader).not.toContain('id="compose"');
    expect(reader).toContain('You are signed in as Ann, but your token cannot post to #tokens: you can read it.');
    expect(renderWallPage('tokens', view, options)).toContain('data-presence="count"');
  });
});
