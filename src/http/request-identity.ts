/**
 * Who a request is, for the routes: its credential read once (http/credentials.ts)
 * and checked by the auth module. Without a key setting nothing is read at
 * all, so a server without tokens costs nothing here.
 */
import type { IncomingMessage } from 'node:http';
import type { Auth } from '../auth/create-auth.js';
import type { Action, Credential, Identity } from '../auth/identity.js';
import type { Config } from '../config.js';
import { readCredential } from './credentials.js';
import { bearerMatches } from './request.js';

/** A query as the stream route reads it (only `ticket` is looked at, and only there). */
type Query = Record<string, string | string[] | undefined>;

export interface RequestAuth {
  auth: Auth;
  config: Pick<Config, 'publishToken' | 'adminToken'>;
}

/**
 * The request's token or ticket; undefined when it has none, or when its
 * `Authorization` is the publish or admin token (those are not JWTs, and
 * keep working beside them). `query` is given on stream URLs, the one place
 * a ticket is taken.
 */
export function credentialOf(req: IncomingMessage, deps: RequestAuth, query?: Query): Credential | undefined {
  const authorization = req.headers.authorization;
  const { publishToken, adminToken } = deps.config;
  const shared =
    authorization !== undefined &&
    ((publishToken !== undefined && bearerMatches(authorization, publishToken)) ||
      (adminToken !== undefined && bearerMatches(authorization, adminToken)));
  return readCredential(
    { authorization: shared ? undefined : authorization, cookie: req.headers.cookie, query },
    { cookieName: deps.auth.cookieName, ticketsAllowed: query !== undefined },
  );
}

/** Who may `action` every wall of `walls` (undefined: anyone); throws the AuthFailure that says why not. */
export async function authorize(
  req: IncomingMessage,
  deps: RequestAuth,
  action: Action,
  walls: readonly string[],
  query?: Query,
): Promise<Identity | undefined> {
  if (!deps.auth.keyConfigured) return undefined;
  return deps.auth.authorize(credentialOf(req, deps, query), action, walls);
}
