/**
 * Where a request's credential comes from (issue 16, "How a token arrives").
 * No credential reaches a log line: the access log writes the path without
 * its query (app.ts), and no other line writes a request's headers.
 *
 * In order: `Authorization: Bearer <jwt>`; then, where the caller allows
 * tickets (stream URLs only), `?ticket=`; then the token cookie. The first
 * found is the credential; the others are not looked at. `?token=` and
 * `?access_token=` are never read: a token in a URL ends up in proxy and
 * browser logs, so it is not a transport (RFC 6750 §2.3 "SHOULD NOT").
 *
 * Works from plain header values (Node's `IncomingMessage.headers`, or
 * Hono's `c.req.header()`), so the stream path costs no Context and tests
 * need no app. Which transport it was matters to the caller: a cookie-borne
 * post is held to the same-origin checks of form posts.
 *
 * Note: `WALLCAST_PUBLISH_TOKEN` and `WALLCAST_ADMIN_TOKEN` also come as
 * `Authorization: Bearer`; the caller compares those first and reads a JWT
 * only when neither matched.
 */
import { parse as parseCookies } from 'hono/utils/cookie';
import { AuthFailure } from '../auth/auth-failure.js';
import type { Credential } from '../auth/identity.js';

/** A header as Node gives it (`string[]` for repeated `Set-Cookie` only, but accepted for any). */
type HeaderValue = string | string[] | undefined;

/** A query as Hono's `c.req.queries()`/`query()` or a URLSearchParams gives it. */
type Query = URLSearchParams | Record<string, string | string[] | undefined>;

export interface CredentialSources {
  authorization: HeaderValue;
  cookie: HeaderValue;
  /** The request's query; only `ticket` is read from it, and only when tickets are allowed. */
  query?: Query;
}

export interface CredentialOptions {
  /** WALLCAST_TOKEN_COOKIE. */
  cookieName: string;
  /** True on stream URLs (`/api/walls/:wall/events`, `/api/events`), the only place a ticket is taken. */
  ticketsAllowed: boolean;
}

/**
 * The request's credential, or undefined when it carries none. A header or
 * ticket that is there but unusable is a `token_invalid` / `ticket_invalid`
 * AuthFailure, not "no credential": a client that sent one wants to know.
 */
export function readCredential(sources: CredentialSources, options: CredentialOptions): Credential | undefined {
  const authorization = single(sources.authorization);
  if (authorization !== undefined && /^bearer(\s|$)/i.test(authorization)) {
    const token = authorization.slice('bearer'.length).trim();
    if (token === '' || /\s/.test(token)) {
      throw new AuthFailure(
        'token_invalid',
        'The Authorization header must be "Bearer <token>": one token, no spaces.',
      );
    }
    return { via: 'bearer', token };
  }
  if (options.ticketsAllowed && sources.query !== undefined) {
    const tickets = queryValues(sources.query, 'ticket');
    if (tickets.length > 1) throw new AuthFailure('ticket_invalid', 'Give one ticket, not several.');
    const [ticket] = tickets;
    if (ticket !== undefined) return { via: 'ticket', ticket };
  }
  const token = cookieValue(sources.cookie, options.cookieName);
  if (token !== undefined && token !== '') return { via: 'cookie', token };
  return undefined;
}

function single(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function queryValues(query: Query, name: string): string[] {
  if (query instanceof URLSearchParams) return query.getAll(name);
  const value = query[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/**
 * A cookie's value from `Cookie` headers (RFC 6265 §5.4: `a=1; b=2`), read
 * by Hono's parser as the pages read theirs. The first of a name wins:
 * browsers send the most specific path first. Quotes around a value are
 * dropped (§4.1.1).
 */
export function cookieValue(header: HeaderValue, name: string): string | undefined {
  if (header === undefined) return undefined;
  return parseCookies(Array.isArray(header) ? header.join('; ') : header, name)[name];
}
