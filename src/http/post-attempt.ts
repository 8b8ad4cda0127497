import type { Context } from 'hono';
import type { AppEnv } from '../app-deps.js';
import type { PostAttempt } from '../posting.js';
import type { ClientAddresses } from './client-address.js';

/** What every door tells the post path about the request: credentials, client, idempotency key. */
export function postAttempt(
  c: Context<AppEnv>,
  clients: ClientAddresses,
  wall: string,
  readFields: PostAttempt['readFields'],
): PostAttempt {
  const incoming = c.env.incoming;
  return {
    wall,
    authorization: c.req.header('Authorization'),
    client: clients.keyOf(incoming.socket.remoteAddress, incoming.headers['x-forwarded-for']),
    idempotencyKey: c.req.header('Idempotency-Key'),
    readFields,
  };
}
