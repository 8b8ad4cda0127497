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
  type ReadQuery,
  type ReadResult,
  StoreUnavailableError,
  type WallEvent,
} from '../../src/store/store.js';
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
const parsed = (observed: Observed) => JSON.parse(observed.text);

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
  let open: RunningServer;
  let guarded: RunningServer;
  let troubled: RunningServer;
  const troubledStore = new FailingStore({ historySize: 100, historyBytes: 1 << 20, maxWalls: 100 });

  beforeAll(async () => {
    [open, guarded, troubled] = await Promise.all([
      startTestServer({ WALLCAST_LONGPOLL_MS: String(LONG_POLL_MS) }),
      startTestServer({
        WALLCAST_PUBLISH_TOKEN: PUBLISH_TOKEN,
        WALLCAST_ADMIN_TOKEN: ADMIN_TOKEN,
        WALLCAST_RATE_LIMIT: `${GUARDED_POSTS}/min`,
        WALLCAST_MAX_WALLS: '1',
      }),
      startTestServer({ WALLCAST_ADMIN_TOKEN: ADMIN_TOKEN }, troubledStore),
    ]);
  });
  afterAll(async () => {
    await Promise.all([open?.close(), guarded?.close(), troubled?.close()]);
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

  describe('a bad day', () => {
    it('answers 503 with Retry-After for everything that needs the store while it is down', async () => {
      troubledStore.down = true;
      const needStore: [string, string, RequestInit][] = [
        ['GET', '/api/walls/main/messages', {}],
        ['GET', '/api/messages', {}],
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
