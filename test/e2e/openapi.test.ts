/**
 * docs/openapi.yaml against the server it describes: the document is valid
 * OpenAPI 3.1, and real responses of real servers, for every operation and
 * every status it documents, match it. A response with an undocumented
 * status, a body or header off its schema, or a documented status that no
 * test provokes fails here, so the description cannot drift from the code.
 */
import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, type ErrorCode } from '../../src/errors.js';
import type { Message, NewMessage } from '../../src/message.js';
import type { RunningServer } from '../../src/server.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import {
  type AppendOptions,
  type OlderPage,
  type ReadBeforeQuery,
  type ReadQuery,
  type ReadResult,
  StoreUnavailableError,
  type WallEvent,
  type WallList,
  type WallListQuery,
} from '../../src/store/store.js';
import {
  claims,
  type JwksServer,
  keyPair,
  nowSeconds,
  secretText,
  signHmac,
  signWith,
  startJwksServer,
} from '../support/jwt.js';
import {
  exchange,
  loadOpenApi,
  type Observed,
  OpenApiChecker,
  type ResponseObject,
} from '../support/openapi-checker.js';
import { startTestServer } from '../support/server.js';
import { RawSse } from '../support/sse-reader.js';

const document = loadOpenApi();
const checker = new OpenApiChecker(document);

/** The `_xsrf` cookie and field of compat posts: Tornado's check is only that the two are equal. */
const XSRF = 'openapi0test0xsrf0token';
const PUBLISH_TOKEN = 'publish-token-for-openapi';
const ADMIN_TOKEN = 'admin-token-for-openapi';
/** Posts the guarded server lets one client make: its 201 and 507s below use them all, then 429. */
const GUARDED_POSTS = 4;
/** The compat long poll, short so that its `{}` answer comes in a test's time. */
const LONG_POLL_MS = 200;

/** A well-formed message id that no store has issued. */
const UNKNOWN_ID = 'AAAAAAAAAAAAAAAAAAAAA';
/** Both doors of a post to one wall: the wall's own path and, for `main`, the alias. */
const POST_PATHS = ['/api/walls/main/messages', '/api/messages'];

/** The keyed server's key: real HS256 tokens, signed by jose. */
const JWT_SECRET = secretText(40);
/** On the keyed server: walls only a read grant reads (`main` among them, for the aliases and the long poll). */
const PRIVATE_WALLS = 'team-*,main';
/** On the keyed server: the wall anyone may post to without a token. */
const OPEN_WALL = 'guest';
/** RFC 6750 §3.1: a request that sent no credential gets the challenge alone, with no error code. */
const BARE_CHALLENGE = 'Bearer realm="wallcast"';
/** Not a JWT at all: refused as token_invalid wherever it is sent. */
const NOT_A_TOKEN = 'not.a.token';

/** A real request, its response held to the document. */
async function call(base: string, method: string, path: string, init: RequestInit = {}): Promise<Observed> {
  const observed = await exchange(base, method, path, init);
  checker.check(method, path, observed);
  return observed;
}

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  headers: { 'Content-Type': 'application/json', ...headers },
  body: JSON.stringify(body),
});
const form = (fields: Record<string, string>, headers: Record<string, string> = {}): RequestInit => ({
  headers,
  body: new URLSearchParams(fields),
});
const compatForm = (fields: Record<string, string>, headers: Record<string, string> = {}): RequestInit =>
  form({ _xsrf: XSRF, ...fields }, { Cookie: `_xsrf=${XSRF}`, ...headers });
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const tokenCookie = (token: string) => ({ Cookie: `wallcast_token=${token}` });
const parsed = (observed: Observed) => JSON.parse(observed.text);
const codeOf = (observed: Observed) => parsed(observed).error.code;
const challengeOf = (observed: Observed) => observed.headers.get('www-authenticate');
const signed = (extra: Record<string, unknown>) => signHmac(claims(extra), JWT_SECRET);

/** Every code of src/errors.ts: a code added there and not here fails the typecheck. */
const EVERY_CODE: Record<ErrorCode, true> = {
  invalid_wall: true,
  invalid_body: true,
  invalid_author: true,
  invalid_json: true,
  invalid_next: true,
  invalid_cursor: true,
  invalid_limit: true,
  invalid_idempotency_key: true,
  invalid_client: true,
  invalid_presence: true,
  bad_request: true,
  unauthorized: true,
  token_missing: true,
  token_invalid: true,
  token_expired: true,
  ticket_invalid: true,
  insufficient_scope: true,
  forbidden: true,
  not_found: true,
  payload_too_large: true,
  unsupported_media_type: true,
  idempotency_key_reused: true,
  rate_limited: true,
  unavailable: true,
  too_many_walls: true,
  internal: true,
};

/** A memory store that can be told to stop answering, as a store that is down does. */
class FailingStore extends MemoryStore {
  down = false;

  #check(): void {
    if (this.down) throw new StoreUnavailableError('the test took the store down');
  }
  override async append(message: NewMessage, options?: AppendOptions): Promise<Message> {
    this.#check();
    return super.append(message, options);
  }
  override async read(wall: string, query: ReadQuery): Promise<ReadResult> {
    this.#check();
    return super.read(wall, query);
  }
  override async get(wall: string, id: string): Promise<Message | undefined> {
    this.#check();
    return super.get(wall, id);
  }
  override async delete(wall: string, id: string): Promise<WallEvent | undefined> {
    this.#check();
    return super.delete(wall, id);
  }
  override async readBefore(wall: string, query: ReadBeforeQuery): Promise<OlderPage> {
    this.#check();
    return super.readBefore(wall, query);
  }
  override async listWalls(query: WallListQuery): Promise<WallList> {
    this.#check();
    return super.listWalls(query);
  }
  override async isReady(): Promise<boolean> {
    return !this.down;
  }
}

describe('docs/openapi.yaml', () => {
  it('is a valid OpenAPI 3.1 document whose every $ref resolves', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document) as unknown as Record<string, unknown>);
    expect(result.errors, 'validation errors').toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(document.openapi).toBe('3.1.0');
  });

  it("carries package.json's version", () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(document.info.version).toBe(pkg.version);
  });

  it('lists, for each error status, exactly the codes src/errors.ts answers with it', () => {
    const fromErrors = new Map<number, string[]>();
    for (const code of Object.keys(EVERY_CODE)) {
      const { status } = new ApiError(code as ErrorCode, '');
      fromErrors.set(status, [...(fromErrors.get(status) ?? []), code].sort());
    }
    const fromDocument = new Map<number, string[]>();
    for (const item of Object.values(document.paths)) {
      for (const operation of Object.values(item) as { responses?: Record<string, unknown> }[]) {
        for (const [status, declared] of Object.entries(operation.responses ?? {})) {
          const schema = checker.resolve<ResponseObject>(declared as ResponseObject).content?.['application/json']
            ?.schema;
          if (Number(status) < 400 || schema === undefined || !('$ref' in schema)) continue;
          // One step only: the error schema's own narrowing, not the `Error` it refers to.
          const name = String(schema.$ref).replace('#/components/schemas/', '');
          const codes = codesOf(document.components.schemas[name] as Record<string, unknown>);
          const known = fromDocument.get(Number(status));
          if (known !== undefined) expect(codes, `the codes of ${status} are the same everywhere`).toEqual(known);
          fromDocument.set(Number(status), codes);
        }
      }
    }
    fromDocument.set(500, codesOf(document.components.schemas.InternalError as Record<string, unknown>));
    expect(Object.fromEntries(fromDocument)).toEqual(Object.fromEntries(fromErrors));
    const listed = (document.components.schemas.ErrorCode as { enum: string[] }).enum;
    expect([...listed].sort()).toEqual(Object.keys(EVERY_CODE).sort());
  });
});

describe('the running server, held to docs/openapi.yaml', () => {
  // Open: no tokens, no limits. Guarded: every token and limit set. Troubled: its store goes down, then it drains.
  // Keyed: a JWT secret, private and open walls. Keyless: a JWK Set URL that never answers.
  let open: RunningServer;
  let guarded: RunningServer;
  let troubled: RunningServer;
  let keyed: RunningServer;
  let keyless: RunningServer;
  let jwks: JwksServer;
  const troubledStore = new FailingStore({ historySize: 100, historyBytes: 1 << 20, maxWalls: 100 });
  /** ann reads and posts to team-a; mod moderates team-a and main; outsider has no grant; expired is past its exp. */
  let tokens: Record<'ann' | 'mod' | 'outsider' | 'expired', string>;

  beforeAll(async () => {
    jwks = await startJwksServer();
    jwks.setMode('failing');
    tokens = {
      ann: await signed({ name: 'Ann', wallcast: { read: ['team-a'], post: ['team-a'] } }),
      mod: await signed({ sub: 'mod', name: 'Mo', wallcast: { moderate: ['team-a', 'main'] } }),
      outsider: await signed({ sub: 'u7' }),
      expired: await signed({ iat: nowSeconds() - 600, exp: nowSeconds() - 120 }),
    };
    [open, guarded, troubled, keyed, keyless] = await Promise.all([
      startTestServer({ WALLCAST_LONGPOLL_MS: String(LONG_POLL_MS) }),
      startTestServer({
        WALLCAST_PUBLISH_TOKEN: PUBLISH_TOKEN,
        WALLCAST_ADMIN_TOKEN: ADMIN_TOKEN,
        WALLCAST_RATE_LIMIT: `${GUARDED_POSTS}/min`,
        WALLCAST_MAX_WALLS: '1',
      }),
      startTestServer({ WALLCAST_ADMIN_TOKEN: ADMIN_TOKEN }, troubledStore),
      startTestServer({
        WALLCAST_JWT_SECRET: JWT_SECRET,
        WALLCAST_PRIVATE_WALLS: PRIVATE_WALLS,
        WALLCAST_OPEN_WALLS: OPEN_WALL,
        // No grace, so no settling after the start: presence events come at once.
        WALLCAST_PRESENCE_GRACE_MS: '0',
        WALLCAST_LONGPOLL_MS: String(LONG_POLL_MS),
      }),
      startTestServer({ WALLCAST_JWKS_URL: jwks.url.href }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([open?.close(), guarded?.close(), troubled?.close(), keyed?.close(), keyless?.close()]);
    await jwks?.stop();
  });

  describe('posting', () => {
    it('answers JSON and multipart posts with 201, the message and its Location', async () => {
      for (const path of POST_PATHS) {
        const posted = await call(open.url, 'POST', path, json({ body: 'hello <b>', author: 'ann' }));
        expect(posted.status).toBe(201);
        expect(posted.headers.get('location')).toBe(`/api/walls/main/messages/${parsed(posted).id}`);
        const multipart = new FormData();
        multipart.set('body', 'from a multipart form');
        expect((await call(open.url, 'POST', path, { body: multipart })).status).toBe(201);
      }
      expect((await call(open.url, 'POST', '/api/walls/docs/messages', json({ body: 'on docs' }))).status).toBe(201);
    });

    it('answers a form post with a safe next with 303 to it', async () => {
      for (const path of POST_PATHS) {
        const redirected = await call(open.url, 'POST', path, form({ body: 'from the page', next: '/w/main' }));
        expect(redirected.status).toBe(303);
        expect(redirected.headers.get('location')).toMatch(/^\/w\/main#m[A-Za-z0-9_-]{21}$/);
      }
    });

    it('replays a repeated Idempotency-Key with Idempotent-Replayed, and refuses it for another body with 422', async () => {
      for (const path of POST_PATHS) {
        const key = { 'Idempotency-Key': `key-for-${path}` };
        const first = await call(open.url, 'POST', path, json({ body: 'once' }, key));
        const again = await call(open.url, 'POST', path, json({ body: 'once' }, key));
        expect(again.status).toBe(201);
        expect(again.headers.get('idempotent-replayed')).toBe('true');
        expect(parsed(again).id).toBe(parsed(first).id);
        expect((await call(open.url, 'POST', path, json({ body: 'another' }, key))).status).toBe(422);
      }
    });

    it('refuses bad posts with the documented status and code', async () => {
      const cases: [RequestInit, number, string][] = [
        [{ headers: { 'Content-Type': 'application/json' }, body: '{' }, 400, 'invalid_json'],
        [json({ body: '' }), 400, 'invalid_body'],
        [json({ body: 'x', author: 'a'.repeat(65) }), 400, 'invalid_author'],
        [form({ body: 'x', next: '//evil.example' }), 400, 'invalid_next'],
        [json({ body: 'x' }, { 'Idempotency-Key': 'has space' }), 400, 'invalid_idempotency_key'],
        [form({ body: 'x' }, { Origin: 'https://evil.example' }), 403, 'forbidden'],
        [json({ body: 'x'.repeat(64 * 1024) }), 413, 'payload_too_large'],
        [{ headers: { 'Content-Type': 'text/plain' }, body: 'x' }, 415, 'unsupported_media_type'],
      ];
      for (const path of POST_PATHS) {
        for (const [init, status, code] of cases) {
          const refused = await call(open.url, 'POST', path, init);
          expect(refused.status, `${path} ${code}`).toBe(status);
          expect(parsed(refused).error.code).toBe(code);
        }
      }
      const badWall = await call(open.url, 'POST', '/api/walls/Bad!/messages', json({ body: 'x' }));
      expect(parsed(badWall).error.code).toBe('invalid_wall');
    });

    it('answers a browser with the error as an HTML page of the same status', async () => {
      const refused = await call(open.url, 'POST', '/api/messages', form({ body: '' }, { Accept: 'text/html' }));
      expect(refused.status).toBe(400);
      expect(refused.headers.get('content-type')).toMatch(/^text\/html/);
    });
  });

  describe('reading', () => {
    it('answers pages of messages, forward from a cursor, and a reset for one it cannot resume', async () => {
      for (const path of POST_PATHS) {
        const newest = parsed(await call(open.url, 'GET', `${path}?limit=2`));
        expect(newest.messages).toHaveLength(2);
        const first = newest.messages[0].cursor;
        const forward = parsed(await call(open.url, 'GET', `${path}?after=${encodeURIComponent(first)}&limit=1`));
        expect(forward).toMatchObject({ reset: false, messages: [{ cursor: newest.messages[1].cursor }] });
        expect(parsed(await call(open.url, 'GET', `${path}?after=nope`)).reset).toBe(true);
      }
      expect(parsed(await call(open.url, 'GET', '/api/walls/empty/messages')).messages).toEqual([]);
    });

    it('refuses a bad limit, cursor or wall with 400', async () => {
      for (const path of POST_PATHS) {
        expect(parsed(await call(open.url, 'GET', `${path}?limit=0`)).error.code).toBe('invalid_limit');
        expect(parsed(await call(open.url, 'GET', `${path}?after=${'x'.repeat(65)}`)).error.code).toBe(
          'invalid_cursor',
        );
      }
      expect((await call(open.url, 'GET', '/api/walls/Bad!/messages')).status).toBe(400);
    });

    it('answers one message, 404 for an unknown one, and 400 for a bad wall', async () => {
      const [message] = parsed(await call(open.url, 'GET', '/api/messages?limit=1')).messages;
      for (const path of [`/api/walls/main/messages/${message.id}`, `/api/messages/${message.id}`]) {
        expect(parsed(await call(open.url, 'GET', path))).toEqual(message);
      }
      for (const path of [`/api/walls/main/messages/${UNKNOWN_ID}`, `/api/messages/${UNKNOWN_ID}`]) {
        expect((await call(open.url, 'GET', path)).status).toBe(404);
      }
      expect((await call(open.url, 'GET', `/api/walls/Bad!/messages/${message.id}`)).status).toBe(400);
    });
  });

  describe('streaming', () => {
    it('opens a stream that starts with retry:, from a Last-Event-ID header, a lastEventId query or a backlog', async () => {
      const [message] = parsed(await call(open.url, 'GET', '/api/messages?limit=1')).messages;
      const cursor = encodeURIComponent(message.cursor);
      const opens: [string, RequestInit][] = [
        ['/api/walls/main/events', {}],
        ['/api/events', {}],
        ['/api/walls/main/events', { headers: { 'Last-Event-ID': message.cursor } }],
        [`/api/events?lastEventId=${cursor}`, {}],
        ['/api/walls/docs/events?backlog=0', {}],
      ];
      for (const [path, init] of opens) {
        const stream = await call(open.url, 'GET', path, init);
        expect(stream.status, path).toBe(200);
        expect(stream.text, path).toMatch(/^retry: \d+\n\n$/);
      }
    });

    it('sends frames whose data are the documented Message and ResetEventData', async () => {
      const sse = new RawSse(`${open.url}/api/walls/main/events?backlog=2`, { 'Last-Event-ID': 'not-a-cursor' });
      try {
        await sse.waitFor(
          'reset and two messages',
          (s) => s.frames.some((f) => f.event === 'reset') && s.messages().length >= 2,
        );
        checker.checkSchema('ResetEventData', JSON.parse(sse.frames.find((f) => f.event === 'reset')?.data as string));
        for (const message of sse.messages()) checker.checkSchema('Message', message);
      } finally {
        sse.close();
      }
    });

    it('answers HEAD with the head of a stream, and a bad backlog or wall with 400', async () => {
      for (const path of ['/api/walls/main/events', '/api/events']) {
        expect((await call(open.url, 'HEAD', path)).status).toBe(200);
        expect((await call(open.url, 'HEAD', `${path}?backlog=-1`)).status).toBe(400);
        expect(parsed(await call(open.url, 'GET', `${path}?backlog=-1`)).error.code).toBe('invalid_limit');
      }
      expect(parsed(await call(open.url, 'GET', '/api/walls/Bad!/events')).error.code).toBe('invalid_wall');
    });
  });

  describe('pages', () => {
    it('serves the pages with their security headers, and 400 for a bad wall', async () => {
      for (const path of ['/', '/w/docs']) expect((await call(open.url, 'GET', path)).status).toBe(200);
      expect((await call(open.url, 'GET', '/w/Bad!')).status).toBe(400);
      const html = await call(open.url, 'GET', '/w/Bad!', { headers: { Accept: 'text/html' } });
      expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    });

    it("serves the page's script and style, and 404 for any other name", async () => {
      for (const name of ['wall.js', 'wall.css'])
        expect((await call(open.url, 'GET', `/static/${name}`)).status).toBe(200);
      expect((await call(open.url, 'GET', '/static/nope.js')).status).toBe(404);
    });
  });

  describe('Tornado compatibility', () => {
    it('posts with /a/message/new: 200, 303 to a safe next, and the documented refusals', async () => {
      const posted = await call(open.url, 'POST', '/a/message/new', compatForm({ body: 'from chat.js' }));
      expect(Object.keys(parsed(posted)).sort()).toEqual(['body', 'html', 'id']);
      expect((await call(open.url, 'POST', '/a/message/new', compatForm({ body: 'x', next: '/' }))).status).toBe(303);
      const key = { 'Idempotency-Key': 'compat-key' };
      expect((await call(open.url, 'POST', '/a/message/new', compatForm({ body: 'one' }, key))).status).toBe(200);
      expect((await call(open.url, 'POST', '/a/message/new', compatForm({ body: 'two' }, key))).status).toBe(422);
      const refusals: [RequestInit, number][] = [
        [compatForm({ body: 'x', next: '//evil.example' }), 400],
        [form({ body: 'x', _xsrf: 'other' }, { Cookie: `_xsrf=${XSRF}` }), 403],
        [compatForm({ body: 'x'.repeat(64 * 1024) }), 413],
        [{ headers: { 'Content-Type': 'text/plain', Cookie: `_xsrf=${XSRF}` }, body: 'x' }, 415],
      ];
      for (const [init, status] of refusals)
        expect((await call(open.url, 'POST', '/a/message/new', init)).status).toBe(status);
    });

    it('long-polls /a/message/updates: the messages after a cursor, {} after the timeout, and the refusals', async () => {
      const latest = parsed(await call(open.url, 'POST', '/a/message/new', compatForm({ body: 'latest' })));
      const recent = parsed(await call(open.url, 'POST', '/a/message/updates', compatForm({})));
      expect(recent.messages.at(-1).id).toBe(latest.id);
      const timedOut = await call(open.url, 'POST', '/a/message/updates', compatForm({ cursor: latest.id }));
      expect(parsed(timedOut)).toEqual({});
      const refusals: [RequestInit, number][] = [
        [{ headers: { 'Content-Type': 'application/json', Cookie: `_xsrf=${XSRF}` }, body: '{' }, 400],
        [form({ _xsrf: 'other' }, { Cookie: `_xsrf=${XSRF}` }), 403],
        [compatForm({ cursor: 'x'.repeat(64 * 1024) }), 413],
        [{ headers: { 'Content-Type': 'text/plain', Cookie: `_xsrf=${XSRF}` }, body: 'x' }, 415],
      ];
      for (const [init, status] of refusals) {
        expect((await call(open.url, 'POST', '/a/message/updates', init)).status).toBe(status);
      }
    });
  });

  describe('operations', () => {
    it('reports health, readiness and metrics', async () => {
      expect(parsed(await call(open.url, 'GET', '/healthz'))).toEqual({ status: 'ok' });
      expect(parsed(await call(open.url, 'GET', '/readyz'))).toEqual({ status: 'ready' });
      expect((await call(open.url, 'GET', '/metrics')).text).toMatch(/^wallcast_posts_total \d+$/m);
    });

    it('serves docs/openapi.yaml as JSON at /openapi.json, with the version of package.json', async () => {
      const served = await call(open.url, 'GET', '/openapi.json');
      expect(parsed(served)).toEqual(document);
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
      expect(parsed(served).info.version).toBe(pkg.version);
    });

    it('answers an unknown route with the documented 404', async () => {
      const unknown = await exchange(open.url, 'GET', '/no/such/route');
      expect(unknown.status).toBe(404);
      checker.checkAgainst(
        'GET /no/such/route 404',
        checker.resolve(document.components.responses.NotFound as ResponseObject),
        unknown,
      );
    });

    it('answers DELETE with 404 while no admin token is set, and 400 for a bad wall', async () => {
      const [message] = parsed(await call(open.url, 'GET', '/api/messages?limit=1')).messages;
      for (const path of [`/api/walls/main/messages/${message.id}`, `/api/messages/${message.id}`]) {
        expect(parsed(await call(open.url, 'DELETE', path, { headers: bearer(ADMIN_TOKEN) })).error.code).toBe(
          'not_found',
        );
      }
      expect((await call(open.url, 'DELETE', `/api/walls/Bad!/messages/${message.id}`)).status).toBe(400);
    });
  });

  describe('tokens and limits', () => {
    // In this order: the one wall the server keeps, posts refused for want of room, then the rate limit.
    const withToken = (init: RequestInit): RequestInit => ({
      ...init,
      headers: { ...(init.headers as Record<string, string>), ...bearer(PUBLISH_TOKEN) },
    });

    it('answers a post without the publish token with 401', async () => {
      for (const path of [...POST_PATHS, '/api/walls/first/messages']) {
        expect((await call(guarded.url, 'POST', path, json({ body: 'x' }))).status).toBe(401);
      }
      expect((await call(guarded.url, 'POST', '/a/message/new', compatForm({ body: 'x' }))).status).toBe(401);
    });

    it('answers a post that would start a wall past WALLCAST_MAX_WALLS with 507', async () => {
      const first = await call(guarded.url, 'POST', '/api/walls/first/messages', withToken(json({ body: 'first' })));
      expect(first.status).toBe(201);
      for (const path of ['/api/walls/second/messages', '/api/messages']) {
        expect((await call(guarded.url, 'POST', path, withToken(json({ body: 'x' })))).status).toBe(507);
      }
      expect((await call(guarded.url, 'POST', '/a/message/new', withToken(compatForm({ body: 'x' })))).status).toBe(
        507,
      );
    });

    it('answers posts past WALLCAST_RATE_LIMIT with 429 and Retry-After', async () => {
      // Posts refused by a bound were refunded: spend what is left of the budget first.
      for (let spent = 0; spent < 10; spent++) {
        const status = (await call(guarded.url, 'POST', '/api/walls/first/messages', withToken(json({ body: 'x' }))))
          .status;
        if (status === 429) break;
        expect(status).toBe(201);
      }
      for (const path of ['/api/walls/first/messages', '/api/messages']) {
        expect((await call(guarded.url, 'POST', path, withToken(json({ body: 'x' })))).status).toBe(429);
      }
      expect((await call(guarded.url, 'POST', '/a/message/new', withToken(compatForm({ body: 'x' })))).status).toBe(
        429,
      );
    });

    it('deletes with the admin token (204 and a delete event), 401 without it, 404 for an unknown id', async () => {
      const [message] = parsed(await call(guarded.url, 'GET', '/api/walls/first/messages')).messages;
      const sse = new RawSse(`${guarded.url}/api/walls/first/events?backlog=0`);
      try {
        await sse.waitFor('stream open', (s) => s.frames.length >= 2);
        for (const path of [`/api/walls/first/messages/${message.id}`, `/api/messages/${message.id}`]) {
          expect((await call(guarded.url, 'DELETE', path)).status).toBe(401);
          expect((await call(guarded.url, 'DELETE', path, { headers: bearer('wrong-token') })).status).toBe(401);
        }
        const path = `/api/walls/first/messages/${message.id}`;
        expect((await call(guarded.url, 'DELETE', path, { headers: bearer(ADMIN_TOKEN) })).status).toBe(204);
        await sse.waitFor('delete event', (s) => s.frames.some((f) => f.event === 'delete'));
        checker.checkSchema(
          'DeleteEventData',
          JSON.parse(sse.frames.find((f) => f.event === 'delete')?.data as string),
        );
        for (const gone of [path, `/api/messages/${message.id}`]) {
          expect((await call(guarded.url, 'DELETE', gone, { headers: bearer(ADMIN_TOKEN) })).status).toBe(404);
        }
      } finally {
        sse.close();
      }
    });

    it('deletes through the /api/messages alias with 204', async () => {
      // On `main`, which the guarded server has no room for; the troubled server's store is still up here.
      const onMain = parsed(await call(troubled.url, 'POST', '/api/messages', json({ body: 'to delete' })));
      const deleted = await call(troubled.url, 'DELETE', `/api/messages/${onMain.id}`, {
        headers: bearer(ADMIN_TOKEN),
      });
      expect(deleted.status).toBe(204);
    });
  });

  describe('older messages and the wall list (issue 18)', () => {
    it('pages backwards from a fresh page, newest first, until more is false, then answers nothing', async () => {
      const path = '/api/walls/older/messages';
      for (const body of ['one', 'two', 'three', 'four']) await call(open.url, 'POST', path, json({ body }));
      const fresh = parsed(await call(open.url, 'GET', `${path}?limit=1`));
      const seen: string[] = fresh.messages.map((m: { body: string }) => m.body);
      let before: string = fresh.messages[0].cursor;
      for (let pages = 0, more = true; more; pages++) {
        expect(pages, 'pages before more is false').toBeLessThan(4);
        const page = parsed(await call(open.url, 'GET', `${path}?before=${encodeURIComponent(before)}&limit=2`));
        expect(page.reset).toBe(false);
        seen.push(...page.messages.map((m: { body: string }) => m.body));
        expect(page.cursor).toBe(page.messages.at(-1).cursor);
        before = page.cursor;
        more = page.more;
      }
      expect(seen).toEqual(['four', 'three', 'two', 'one']);
      const beginning = parsed(await call(open.url, 'GET', `${path}?before=${encodeURIComponent(before)}`));
      expect(beginning).toEqual({ messages: [], cursor: null, more: false, reset: false });
    });

    it('answers a before that is no position with the newest messages and reset, and refuses it beside after', async () => {
      for (const path of POST_PATHS) {
        const reset = parsed(await call(open.url, 'GET', `${path}?before=nope&limit=1`));
        expect(reset).toMatchObject({ reset: true, more: true });
        expect(reset.messages).toHaveLength(1);
        expect(codeOf(await call(open.url, 'GET', `${path}?before=a&after=b`))).toBe('invalid_cursor');
        expect(codeOf(await call(open.url, 'GET', `${path}?before=${'x'.repeat(65)}`))).toBe('invalid_cursor');
      }
    });

    it('lists walls by last activity, newest first, in pages that walk the same list', async () => {
      await call(open.url, 'POST', '/api/walls/latest/messages', json({ body: 'the newest post' }));
      const all = parsed(await call(open.url, 'GET', '/api/walls?limit=100'));
      expect(all.walls[0].wall).toBe('latest');
      expect(all.next).toBeNull();
      const walked: string[] = [];
      let after = '';
      for (let pages = 0; ; pages++) {
        expect(pages, 'pages of one wall').toBeLessThanOrEqual(all.walls.length);
        const page = parsed(await call(open.url, 'GET', `/api/walls?limit=1${after}`));
        walked.push(...page.walls.map((w: { wall: string }) => w.wall));
        if (page.next === null) break;
        after = `&after=${encodeURIComponent(page.next)}`;
      }
      expect(walked).toEqual(all.walls.map((w: { wall: string }) => w.wall));
      expect(codeOf(await call(open.url, 'GET', '/api/walls?after=nope'))).toBe('invalid_cursor');
      expect(codeOf(await call(open.url, 'GET', '/api/walls?limit=0'))).toBe('invalid_limit');
    });

    it('lists a private wall only to a token that may read it, and refuses a token that does not verify', async () => {
      await call(keyed.url, 'POST', '/api/walls/team-a/messages', json({ body: 'listed' }, bearer(tokens.ann)));
      await call(keyed.url, 'POST', '/api/messages', json({ body: 'listed' }, bearer(tokens.mod)));
      await call(keyed.url, 'POST', `/api/walls/${OPEN_WALL}/messages`, json({ body: 'listed' }));
      const listed = async (headers: Record<string, string>) =>
        parsed(await call(keyed.url, 'GET', '/api/walls?limit=100', { headers })).walls.map(
          (w: { wall: string }) => w.wall,
        );
      expect((await listed({})).sort()).toEqual([OPEN_WALL]);
      expect((await listed(bearer(tokens.ann))).sort()).toEqual([OPEN_WALL, 'team-a']);
      expect((await listed(bearer(tokens.mod))).sort()).toEqual([OPEN_WALL, 'main', 'team-a']);
      const refused = await call(keyed.url, 'GET', '/api/walls', { headers: bearer(NOT_A_TOKEN) });
      expect([refused.status, codeOf(refused)]).toEqual([401, 'token_invalid']);
    });
  });

  describe('tokens, private walls and tickets (issue 16)', () => {
    /** The walls' doors on the keyed server, and a token that may post there. */
    const posters = () =>
      [
        ['/api/walls/team-a/messages', tokens.ann],
        ['/api/messages', tokens.mod],
      ] as const;

    it('posts as the token says (its name the author, its sub the authorId), and anonymously on an open wall', async () => {
      const byAnn = await call(
        keyed.url,
        'POST',
        '/api/walls/team-a/messages',
        json({ body: 'for the team', author: 'Bob' }, bearer(tokens.ann)),
      );
      expect(byAnn.status).toBe(201);
      expect(parsed(byAnn)).toMatchObject({ wall: 'team-a', author: 'Ann', authorId: 'u42' });
      const byMod = parsed(await call(keyed.url, 'POST', '/api/messages', json({ body: 'hi' }, bearer(tokens.mod))));
      expect(byMod).toMatchObject({ wall: 'main', author: 'Mo', authorId: 'mod' });
      const anonymous = await call(
        keyed.url,
        'POST',
        `/api/walls/${OPEN_WALL}/messages`,
        json({ body: 'hi', author: 'g' }),
      );
      expect(parsed(anonymous)).toMatchObject({ author: 'g', authorId: null });
    });

    it('refuses a post without the grant: 401 with the challenge RFC 6750 asks for, 403 insufficient_scope', async () => {
      for (const [path, poster] of posters()) {
        const missing = await call(keyed.url, 'POST', path, json({ body: 'x' }));
        expect([missing.status, codeOf(missing), challengeOf(missing)]).toEqual([401, 'token_missing', BARE_CHALLENGE]);
        const expired = await call(keyed.url, 'POST', path, json({ body: 'x' }, bearer(tokens.expired)));
        expect([expired.status, codeOf(expired)]).toEqual([401, 'token_expired']);
        expect(challengeOf(expired)).toMatch(
          /^Bearer realm="wallcast", error="invalid_token", error_description="The token expired at /,
        );
        const malformed = await call(keyed.url, 'POST', path, json({ body: 'x' }, bearer(NOT_A_TOKEN)));
        expect([malformed.status, codeOf(malformed)]).toEqual([401, 'token_invalid']);
        expect(challengeOf(malformed)).toMatch(/^Bearer realm="wallcast", error="invalid_token", /);
        const outsider = await call(keyed.url, 'POST', path, json({ body: 'x' }, bearer(tokens.outsider)));
        expect([outsider.status, codeOf(outsider)]).toEqual([403, 'insufficient_scope']);
        expect(challengeOf(outsider)).toMatch(
          /^Bearer realm="wallcast", error="insufficient_scope", error_description="This token cannot post to wall (team-a|main)\."$/,
        );
        const crossSite = await call(
          keyed.url,
          'POST',
          path,
          json({ body: 'x' }, { ...tokenCookie(poster), Origin: 'https://evil.example' }),
        );
        expect([crossSite.status, codeOf(crossSite), challengeOf(crossSite)]).toEqual([403, 'forbidden', null]);
      }
      const compat = await call(keyed.url, 'POST', '/a/message/new', compatForm({ body: 'x' }));
      expect([compat.status, codeOf(compat)]).toEqual([401, 'token_missing']);
    });

    it("reads a private wall only with a read grant, and a refusal shows nothing of the wall's messages", async () => {
      const teamPage = await call(keyed.url, 'GET', '/api/walls/team-a/messages', { headers: bearer(tokens.ann) });
      const [teamMessage] = parsed(teamPage).messages;
      const [mainMessage] = parsed(
        await call(keyed.url, 'GET', '/api/messages', { headers: bearer(tokens.mod) }),
      ).messages;
      const reads: [string, string][] = [
        ['/api/walls/team-a/messages', tokens.ann],
        [`/api/walls/team-a/messages?before=${encodeURIComponent(teamMessage.cursor)}`, tokens.ann],
        [`/api/walls/team-a/messages/${teamMessage.id}`, tokens.ann],
        ['/api/walls/team-a/presence', tokens.ann],
        ['/api/messages', tokens.mod],
        [`/api/messages/${mainMessage.id}`, tokens.mod],
      ];
      for (const [path, reader] of reads) {
        const missing = await call(keyed.url, 'GET', path);
        expect([missing.status, codeOf(missing), challengeOf(missing)], path).toEqual([
          401,
          'token_missing',
          BARE_CHALLENGE,
        ]);
        const outsider = await call(keyed.url, 'GET', path, { headers: bearer(tokens.outsider) });
        expect([outsider.status, codeOf(outsider)], path).toEqual([403, 'insufficient_scope']);
        expect(challengeOf(outsider), path).toMatch(
          /^Bearer realm="wallcast", error="insufficient_scope", error_description="This token cannot read wall (team-a|main)\."$/,
        );
        for (const refusal of [missing, outsider]) {
          expect(refusal.text).not.toContain(teamMessage.id);
          expect(refusal.text).not.toContain(mainMessage.id);
        }
        expect((await call(keyed.url, 'GET', path, { headers: bearer(reader) })).status, path).toBe(200);
      }
      // `main` is private here: the Tornado-compat long poll reads it too.
      const poll = await call(keyed.url, 'POST', '/a/message/updates', compatForm({}));
      expect([poll.status, codeOf(poll), challengeOf(poll)]).toEqual([401, 'token_missing', BARE_CHALLENGE]);
      const pollRefused = await call(keyed.url, 'POST', '/a/message/updates', compatForm({}, bearer(tokens.ann)));
      expect([pollRefused.status, codeOf(pollRefused)]).toEqual([403, 'insufficient_scope']);
    });

    it('refuses a token that does not verify even on an open wall, but not a stale cookie', async () => {
      const path = `/api/walls/${OPEN_WALL}/messages`;
      const sent = await call(keyed.url, 'GET', path, { headers: bearer(NOT_A_TOKEN) });
      expect([sent.status, codeOf(sent)]).toEqual([401, 'token_invalid']);
      expect((await call(keyed.url, 'GET', path, { headers: tokenCookie(NOT_A_TOKEN) })).status).toBe(200);
    });

    it('deletes with a moderate grant: 401 without a token, 403 without the grant, 204 with it', async () => {
      for (const [path, poster] of posters()) {
        const { id } = parsed(await call(keyed.url, 'POST', path, json({ body: 'to moderate' }, bearer(poster))));
        const one = `${path}/${id}`;
        const missing = await call(keyed.url, 'DELETE', one);
        expect([missing.status, codeOf(missing), challengeOf(missing)]).toEqual([401, 'token_missing', BARE_CHALLENGE]);
        const refused = await call(keyed.url, 'DELETE', one, { headers: bearer(tokens.ann) });
        expect([refused.status, codeOf(refused)]).toEqual([403, 'insufficient_scope']);
        expect(parsed(refused).error.message).toMatch(/^This token cannot moderate wall (team-a|main)\.$/);
        expect((await call(keyed.url, 'DELETE', one, { headers: bearer(tokens.mod) })).status).toBe(204);
      }
    });

    it('opens a private stream only with a read grant, GET and HEAD, and one refusal names every wall', async () => {
      for (const method of ['GET', 'HEAD']) {
        for (const path of ['/api/walls/team-a/events', '/api/events']) {
          const missing = await call(keyed.url, method, path);
          expect([missing.status, challengeOf(missing)], `${method} ${path}`).toEqual([401, BARE_CHALLENGE]);
          const refused = await call(keyed.url, method, path, { headers: bearer(tokens.outsider) });
          expect(refused.status, `${method} ${path}`).toBe(403);
          expect(challengeOf(refused)).toMatch(/^Bearer realm="wallcast", error="insufficient_scope", /);
        }
        const allowed = await call(keyed.url, method, '/api/walls/team-a/events?backlog=0', {
          headers: bearer(tokens.ann),
        });
        expect(allowed.status).toBe(200);
      }
      const several = await call(keyed.url, 'GET', `/api/events?walls=team-a,team-b,${OPEN_WALL},main`, {
        headers: bearer(tokens.ann),
      });
      expect(parsed(several).error).toEqual({
        code: 'insufficient_scope',
        message: 'This token cannot read walls team-b and main.',
      });
      const members = await call(keyed.url, 'GET', `/api/walls/${OPEN_WALL}/events?presence=members`);
      expect([members.status, codeOf(members), challengeOf(members)]).toEqual([401, 'token_missing', BARE_CHALLENGE]);
    });

    it('exchanges a token for a ticket that opens one stream of its walls, once', async () => {
      const issued = await call(keyed.url, 'POST', '/api/tickets', json({ walls: ['team-a'] }, bearer(tokens.ann)));
      expect(issued.status).toBe(201);
      expect(issued.headers.get('cache-control')).toBe('no-store');
      const { ticket, expiresIn } = parsed(issued);
      expect(expiresIn).toBeGreaterThanOrEqual(58);
      const stream = await call(keyed.url, 'GET', `/api/walls/team-a/events?backlog=0&ticket=${ticket}`);
      expect(stream.status).toBe(200);
      const again = await call(keyed.url, 'GET', `/api/walls/team-a/events?ticket=${ticket}`);
      expect([again.status, codeOf(again)]).toEqual([401, 'ticket_invalid']);
      expect(challengeOf(again)).toMatch(/^Bearer realm="wallcast", error="invalid_token", /);
      const forGuest = parsed(
        await call(keyed.url, 'POST', '/api/tickets', json({ walls: [OPEN_WALL] }, bearer(tokens.ann))),
      ).ticket;
      const elsewhere = await call(keyed.url, 'GET', `/api/events?walls=${OPEN_WALL},team-a&ticket=${forGuest}`);
      expect([elsewhere.status, codeOf(elsewhere)]).toEqual([401, 'ticket_invalid']);
      expect(parsed(elsewhere).error.message).toMatch(/^This ticket is for guest, not team-a/);
    });

    it('refuses a ticket request without a token, for a wall the token cannot read, or not as documented', async () => {
      const ask = (body: unknown, headers: Record<string, string> = bearer(tokens.ann)) =>
        call(keyed.url, 'POST', '/api/tickets', json(body, headers));
      const missing = await ask({ walls: ['team-a'] }, {});
      expect([missing.status, codeOf(missing), challengeOf(missing)]).toEqual([401, 'token_missing', BARE_CHALLENGE]);
      const outsider = await ask({ walls: ['team-a', OPEN_WALL] }, bearer(tokens.outsider));
      expect([outsider.status, parsed(outsider).error.message]).toEqual([403, 'This token cannot read wall team-a.']);
      const crossSite = await ask(
        { walls: ['team-a'] },
        { ...tokenCookie(tokens.ann), 'Sec-Fetch-Site': 'cross-site' },
      );
      expect([crossSite.status, codeOf(crossSite)]).toEqual([403, 'forbidden']);
      const bad: [unknown, string][] = [
        [{ walls: [] }, 'bad_request'],
        [{ walls: 'team-a' }, 'bad_request'],
        [{ walls: ['Bad!'] }, 'invalid_wall'],
      ];
      for (const [body, code] of bad) expect(codeOf(await ask(body)), JSON.stringify(body)).toBe(code);
      const broken = await call(keyed.url, 'POST', '/api/tickets', {
        headers: { 'Content-Type': 'application/json', ...bearer(tokens.ann) },
        body: '{',
      });
      expect(codeOf(broken)).toBe('invalid_json');
      expect((await ask({ walls: ['x'.repeat(5000)] })).status).toBe(413);
      const text = await call(keyed.url, 'POST', '/api/tickets', {
        headers: { 'Content-Type': 'text/plain', ...bearer(tokens.ann) },
        body: 'team-a',
      });
      expect(text.status).toBe(415);
      const keyless = await call(open.url, 'POST', '/api/tickets', json({ walls: ['main'] }, bearer(tokens.ann)));
      expect([keyless.status, codeOf(keyless)]).toEqual([404, 'not_found']);
    });

    it("tells a token's stream to re-authenticate before the token expires, in a frame with no id", async () => {
      const exp = nowSeconds() + 10;
      const soon = await signed({ name: 'Ann', exp });
      const sse = new RawSse(`${keyed.url}/api/walls/${OPEN_WALL}/events?backlog=0`, bearer(soon));
      try {
        await sse.waitFor('reauth event', (s) => s.frames.some((f) => f.event === 'reauth'));
        const frame = sse.frames.find((f) => f.event === 'reauth');
        expect(frame?.id).toBeUndefined();
        const data = JSON.parse(frame?.data as string);
        checker.checkSchema('ReauthEventData', data);
        expect(data).toEqual({ expiresAt: new Date(exp * 1000).toISOString() });
      } finally {
        sse.close();
      }
    });
  });

  describe('presence (issue 17)', () => {
    it('answers how many people are on a wall, uncached, and 400 for a bad wall', async () => {
      const presence = await call(open.url, 'GET', '/api/walls/main/presence');
      expect(parsed(presence)).toEqual({ wall: 'main', online: expect.any(Number) });
      expect(presence.headers.get('cache-control')).toBe('no-store');
      expect(codeOf(await call(open.url, 'GET', '/api/walls/Bad!/presence'))).toBe('invalid_wall');
    });

    it('sends presence events with no id: the count to anyone, the members to a token', async () => {
      const path = `${keyed.url}/api/walls/${OPEN_WALL}/events?backlog=0`;
      const members = new RawSse(`${path}&presence=members`, bearer(tokens.ann));
      const count = new RawSse(`${path}&presence=count&client=browser-0001`);
      try {
        const presenceOf = (sse: RawSse) => sse.frames.filter((f) => f.event === 'presence');
        await members.waitFor('a members presence event', (s) => presenceOf(s).length > 0);
        await count.waitFor('a count presence event', (s) => presenceOf(s).length > 0);
        for (const frame of [...presenceOf(members), ...presenceOf(count)]) {
          expect(frame.id).toBeUndefined();
          checker.checkSchema('Presence', JSON.parse(frame.data as string));
        }
        const listed = JSON.parse(presenceOf(members)[0]?.data as string);
        expect(listed.members).toContainEqual({ id: 'u42', name: 'Ann' });
        expect(listed.more).toBe(0);
        expect(Object.keys(JSON.parse(presenceOf(count)[0]?.data as string)).sort()).toEqual(['online', 'wall']);
      } finally {
        members.close();
        count.close();
      }
    });

    it('refuses a bad presence or client with 400, GET and HEAD', async () => {
      for (const method of ['GET', 'HEAD']) {
        for (const path of ['/api/walls/main/events', '/api/events']) {
          for (const [query, code] of [
            ['presence=all', 'invalid_presence'],
            ['client=short', 'invalid_client'],
          ]) {
            const refused = await call(open.url, method, `${path}?${query}`);
            expect(refused.status, `${method} ${path}?${query}`).toBe(400);
            if (method === 'GET') expect(codeOf(refused)).toBe(code);
          }
        }
      }
    });
  });

  describe('a bad day', () => {
    it('answers 503 with Retry-After for everything that needs the store while it is down', async () => {
      troubledStore.down = true;
      const needStore: [string, string, RequestInit][] = [
        ['GET', '/api/walls/main/messages', {}],
        ['GET', '/api/messages', {}],
        ['GET', '/api/walls/main/messages?before=x', {}],
        ['GET', '/api/messages?before=x', {}],
        ['GET', '/api/walls', {}],
        ['GET', `/api/walls/main/messages/${UNKNOWN_ID}`, {}],
        ['GET', `/api/messages/${UNKNOWN_ID}`, {}],
        ['DELETE', `/api/walls/main/messages/${UNKNOWN_ID}`, { headers: bearer(ADMIN_TOKEN) }],
        ['DELETE', `/api/messages/${UNKNOWN_ID}`, { headers: bearer(ADMIN_TOKEN) }],
        ['POST', '/api/walls/main/messages', json({ body: 'x' })],
        ['POST', '/api/messages', json({ body: 'x' })],
        ['POST', '/a/message/new', compatForm({ body: 'x' })],
        ['POST', '/a/message/updates', compatForm({})],
        ['GET', '/', {}],
        ['GET', '/w/main', {}],
        ['GET', '/readyz', {}],
      ];
      for (const [method, path, init] of needStore) {
        expect((await call(troubled.url, method, path, init)).status, `${method} ${path}`).toBe(503);
      }
      troubledStore.down = false;
    });

    it('answers 503 keys_unavailable with Retry-After while the JWK Set has never been fetched', async () => {
      // Of an algorithm the JWK Set URL accepts: an HS256 token is refused (401) before any key is looked for.
      const token = await signWith(await keyPair('ES256'), claims());
      const needKeys: [string, string, RequestInit][] = [
        ['GET', '/api/walls/main/presence', { headers: bearer(token) }],
        ['POST', '/api/tickets', json({ walls: ['main'] }, bearer(token))],
        ['GET', '/api/walls', { headers: bearer(token) }],
        ['GET', '/api/walls/main/events', { headers: bearer(token) }],
      ];
      for (const [method, path, init] of needKeys) {
        const refused = await call(keyless.url, method, path, init);
        expect([refused.status, codeOf(refused)], `${method} ${path}`).toEqual([503, 'unavailable']);
      }
      expect(jwks.requests, 'the JWK Set was asked for').toBeGreaterThan(0);
      const metrics = (await call(keyless.url, 'GET', '/metrics')).text;
      expect(metrics).toMatch(/^wallcast_refusals_total\{reason="keys_unavailable"\} 4$/m);
    });

    it('answers 503 to new streams and to /readyz while draining', async () => {
      troubled.deps.lifecycle.drain();
      for (const path of ['/api/walls/main/events', '/api/events']) {
        for (const method of ['GET', 'HEAD']) {
          expect((await call(troubled.url, method, path)).status, `${method} ${path}`).toBe(503);
        }
      }
      expect(parsed(await call(troubled.url, 'GET', '/readyz'))).toMatchObject({
        status: 'draining',
        error: { code: 'unavailable' },
      });
    });
  });

  it('has seen every status the document lists, for every operation', () => {
    expect(checker.documented().filter((response) => !checker.seen.has(response))).toEqual([]);
  });
});

/** The codes an error schema allows: its own narrowing of `error.code`. */
function codesOf(schema: Record<string, unknown>): string[] {
  const code = (schema.properties as { error: { properties: { code: { enum?: string[]; const?: string } } } }).error
    .properties.code;
  return [...(code.enum ?? [code.const as string])].sort();
}
