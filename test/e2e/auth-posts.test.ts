/**
 * Posts and moderation with tokens (issue 16, "Posts", "Which walls need
 * what"): a token's post is its author's whatever the body says; anonymous
 * posts carry authorId null; the publish and admin tokens keep working
 * beside JWTs and are never read as one; DELETE takes a moderate grant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/message.js';
import type { RunningServer } from '../../src/server.js';
import { type AuthServer, call, expectRefusal, SECRET, startAuthServer } from '../support/auth-server.js';
import { claims, signHmac } from '../support/jwt.js';
import { startTestServer } from '../support/server.js';
import { RawSse } from '../support/sse-reader.js';

const XSRF = 'abcdefabcdefabcdefabcdef';

describe('token posts and moderation', () => {
  let server: AuthServer;
  beforeAll(async () => {
    server = await startAuthServer({ WALLCAST_PRIVATE_WALLS: 'team-*', WALLCAST_OPEN_WALLS: 'guestbook' });
  });
  afterAll(() => server?.close());

  it("makes a token post the token's: author its name, authorId its sub, whatever author the body names", async () => {
    const ann = await server.token({
      sub: 'u42',
      name: 'Ann',
      wallcast: { read: ['team-*'], post: ['team-*', 'main'] },
    });
    const sse = new RawSse(`${server.url}/api/walls/team-a/events`, { Authorization: `Bearer ${ann}` });
    await sse.waitFor('the stream is open', (s) => s.frames.length > 0);
    const posted = await server.call('/api/walls/team-a/messages', {
      bearer: ann,
      body: { body: 'verified', author: 'Mallory' },
    });
    expect(posted.status, posted.text).toBe(201);
    expect(posted.json).toMatchObject({ author: 'Ann', authorId: 'u42', body: 'verified' });
    expect(posted.json.html).toContain('Ann');
    expect(posted.json.html).not.toContain('Mallory');
    await sse.waitForMessages(1, 'the post on the stream');
    expect(sse.messages<Message>()[0]).toMatchObject({ author: 'Ann', authorId: 'u42' });
    sse.close();
    const stored = await server.call(`/api/walls/team-a/messages/${posted.json.id}`, { bearer: ann });
    expect(stored.json).toMatchObject({ author: 'Ann', authorId: 'u42' });
    const form = await server.call('/api/walls/team-a/messages', {
      bearer: ann,
      form: { body: 'from a form', author: 'Mallory' },
    });
    expect(form.status, form.text).toBe(201);
    expect(form.json).toMatchObject({ author: 'Ann', authorId: 'u42' });
    const compat = await server.call('/a/message/new', {
      bearer: ann,
      cookie: `_xsrf=${XSRF}`,
      form: { body: 'from chat.js', author: 'Mallory', _xsrf: XSRF },
    });
    expect(compat.status, compat.text).toBe(200);
    const onMain = await server.call(`/api/walls/main/messages/${compat.json.id}`);
    expect(onMain.json).toMatchObject({ author: 'Ann', authorId: 'u42' });
  });

  it('shows the sub as the author of a token without a name', async () => {
    const nameless = await server.token({ sub: 'svc-deploy', wallcast: { post: ['team-*'] } });
    const posted = await server.call('/api/walls/team-b/messages', { bearer: nameless, body: { body: 'deployed' } });
    expect(posted.json).toMatchObject({ author: 'svc-deploy', authorId: 'svc-deploy' });
  });

  it('takes anonymous posts on an open wall only, with authorId null', async () => {
    const guest = await server.call('/api/walls/guestbook/messages', { body: { body: 'hello', author: 'Ann' } });
    expect(guest.status, guest.text).toBe(201);
    expect(guest.json).toMatchObject({ author: 'Ann', authorId: null });
    expectRefusal(await server.call('/api/walls/lobby/messages', { body: { body: 'hello' } }), {
      status: 401,
      code: 'token_missing',
      message: /^Posting to wall lobby needs a token with a post grant for it\.$/,
    });
    expectRefusal(
      await server.call('/a/message/new', { cookie: `_xsrf=${XSRF}`, form: { body: 'hello', _xsrf: XSRF } }),
      { status: 401, code: 'token_missing', message: /^Posting to wall main needs a token/ },
    );
  });

  it('deletes with a moderate grant (204, a delete event on the stream), and refuses without one (403)', async () => {
    const poster = await server.token({ wallcast: { read: ['team-*'], post: ['team-*'] } });
    const moderator = await server.token({ sub: 'mod', wallcast: { moderate: ['team-ops'] } });
    const posted = await server.call('/api/walls/team-ops/messages', { bearer: poster, body: { body: 'spam' } });
    expect(posted.status, posted.text).toBe(201);
    const path = `/api/walls/team-ops/messages/${posted.json.id}`;
    expectRefusal(await server.call(path, { method: 'DELETE', bearer: poster }), {
      status: 403,
      code: 'insufficient_scope',
      message: /^This token cannot moderate wall team-ops\.$/,
    });
    expectRefusal(await server.call(path, { method: 'DELETE' }), { status: 401, code: 'token_missing' });
    const elsewhere = await server.token({ wallcast: { moderate: ['team-b'] } });
    expectRefusal(await server.call(path, { method: 'DELETE', bearer: elsewhere }), {
      status: 403,
      code: 'insufficient_scope',
    });
    expect((await server.call(path, { bearer: poster })).status).toBe(200);
    // moderate implies read: the moderator's own stream sees the delete.
    const sse = new RawSse(`${server.url}/api/walls/team-ops/events`, { Authorization: `Bearer ${moderator}` });
    await sse.waitForMessages(1, 'the message before its delete');
    const deleted = await server.call(path, { method: 'DELETE', bearer: moderator });
    expect(deleted.status).toBe(204);
    await sse.waitFor('the delete event', (s) => s.frames.some((f) => f.event === 'delete'));
    expect(JSON.parse(sse.frames.find((f) => f.event === 'delete')?.data ?? '{}')).toEqual({ id: posted.json.id });
    sse.close();
    expect((await server.call(path, { bearer: poster })).status).toBe(404);
  });
});

describe('the publish and admin tokens beside JWTs', () => {
  const PUBLISH = 'publish-token-0123456789abcdef';
  const ADMIN = 'admin-token-0123456789abcdef';
  let server: AuthServer;
  beforeAll(async () => {
    server = await startAuthServer({
      WALLCAST_PUBLISH_TOKEN: PUBLISH,
      WALLCAST_ADMIN_TOKEN: ADMIN,
      WALLCAST_PRIVATE_WALLS: 'team-*',
      WALLCAST_OPEN_WALLS: 'guestbook',
    });
    server.remember(PUBLISH);
    server.remember(ADMIN);
  });
  afterAll(() => server?.close());

  it('posts with the publish token (anonymous) and with a JWT post grant (verified)', async () => {
    const published = await server.call('/api/walls/lobby/messages', {
      bearer: PUBLISH,
      body: { body: 'from CI', author: 'ci' },
    });
    expect(published.status, published.text).toBe(201);
    expect(published.json).toMatchObject({ author: 'ci', authorId: null });
    const onPrivate = await server.call('/api/walls/team-a/messages', { bearer: PUBLISH, body: { body: 'to a team' } });
    expect(onPrivate.status).toBe(201);
    const ann = await server.token({ name: 'Ann', wallcast: { post: ['lobby'] } });
    const verified = await server.call('/api/walls/lobby/messages', { bearer: ann, body: { body: 'from Ann' } });
    expect(verified.status, verified.text).toBe(201);
    expect(verified.json).toMatchObject({ author: 'Ann', authorId: 'u42' });
  });

  it('needs the publish token for a post without a grant, even on an open wall (the lead’s decision)', async () => {
    const anonymous = await server.call('/api/walls/guestbook/messages', { body: { body: 'hello' } });
    expect({ status: anonymous.status, code: anonymous.json.error.code }).toEqual({
      status: 401,
      code: 'unauthorized',
    });
    // RFC 9110 §15.5.2: every 401 names its scheme.
    expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="wallcast"');
    const reader = await server.token({ wallcast: { read: ['*'] } });
    expectRefusal(await server.call('/api/walls/lobby/messages', { bearer: reader, body: { body: 'x' } }), {
      status: 403,
      code: 'insufficient_scope',
    });
  });

  it('never reads the publish or admin token as a JWT on reads and streams', async () => {
    for (const shared of [PUBLISH, ADMIN]) {
      const lobby = await server.call('/api/walls/lobby/messages', { bearer: shared });
      expect(lobby.status, lobby.text).toBe(200);
      const stream = await server.call('/api/walls/lobby/events', {
        bearer: shared,
        headers: { Accept: 'text/event-stream' },
      });
      expect(stream.status, stream.text).toBe(200);
      expectRefusal(await server.call('/api/walls/team-a/messages', { bearer: shared }), {
        status: 401,
        code: 'token_missing',
      });
    }
  });

  it('deletes with the admin token as before', async () => {
    const posted = await server.call('/api/walls/team-a/messages', { bearer: PUBLISH, body: { body: 'to delete' } });
    const path = `/api/walls/team-a/messages/${posted.json.id}`;
    expect((await server.call(path, { method: 'DELETE', bearer: ADMIN })).status).toBe(204);
    expectRefusal(await server.call(path, { method: 'DELETE', bearer: PUBLISH }), {
      status: 401,
      code: 'token_missing',
    });
  });
});

describe('a server without a key', () => {
  const PUBLISH = 'publish-token-0123456789abcdef';
  const ADMIN = 'admin-token-0123456789abcdef';
  let server: RunningServer;
  let jwt: string;
  beforeAll(async () => {
    server = await startTestServer({ WALLCAST_PUBLISH_TOKEN: PUBLISH, WALLCAST_ADMIN_TOKEN: ADMIN });
    jwt = await signHmac(claims({ name: 'Ann', wallcast: { post: ['*'], moderate: ['*'] } }), SECRET);
  });
  afterAll(() => server?.close());

  it('reads no JWT at all, as before issue 16: the publish and admin tokens decide, their 401s with the challenge', async () => {
    const read = await call(server.url, '/api/walls/lobby/messages', { bearer: jwt });
    expect(read.status).toBe(200);
    const post = await call(server.url, '/api/walls/lobby/messages', { bearer: jwt, body: { body: 'x' } });
    expect({ status: post.status, code: post.json.error.code }).toEqual({ status: 401, code: 'unauthorized' });
    expect(post.headers['www-authenticate']).toBe('Bearer realm="wallcast"');
    const published = await call(server.url, '/api/walls/lobby/messages', {
      bearer: PUBLISH,
      body: { body: 'published', author: 'ci' },
    });
    expect(published.json).toMatchObject({ author: 'ci', authorId: null });
    const path = `/api/walls/lobby/messages/${published.json.id}`;
    const deleted = await call(server.url, path, { method: 'DELETE', bearer: jwt });
    expect({ status: deleted.status, code: deleted.json.error.code }).toEqual({ status: 401, code: 'unauthorized' });
    expect(deleted.headers['www-authenticate']).toBe('Bearer realm="wallcast"');
    expect((await call(server.url, path, { method: 'DELETE', bearer: ADMIN })).status).toBe(204);
    expect((await call(server.url, '/api/tickets', { bearer: jwt, body: { walls: ['lobby'] } })).status).toBe(404);
  });
});
