import type { Context } from 'hono';
import type { AppDeps, AppEnv } from '../app-deps.js';
import type { PostAttempt } from '../posting.js';
import { credentialOf } from './request-identity.js';
import { assertSameOrigin } from './same-origin.js';

/** What every door tells the post path about the request: credentials, client, idempotency key. */
export function postAttempt(
  c: Context<AppEnv>,
  deps: Pick<AppDeps, 'auth' | 'clients' | 'config'>,
  wall: string,
  readFields: PostAttempt['readFields'],
): PostAttempt {
  const incoming = c.env.incoming;
  const headers = incoming.headers;
  return {
    wall,
    authorization: headers.authorization,
    credential: () => credentialOf(incoming, deps),
    assertSameOrigin: () =>
      assertSameOrigin(
        c,
        deps.config.corsOrigins,
        'Cross-site posts are not accepted with the token cookie: send the token in an Authorization header.',
      ),
    client: deps.clients.keyOf(incoming.socket.remoteAddress, headers['x-forwarded-for']),
    idempotencyKey: c.req.header('Idempotency-Key'),
    readFields,
  };
}
