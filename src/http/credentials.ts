/**
 * Where a request's credential comes from (issue 16, "How a token arrives"),
 * and keeping credentials out of logs.
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
 * A cookie's value from `Cookie` headers (RFC 6265 §5.4: `a=1; b=2`). The
 * first of a name wins: browsers send the most specific path first. Quotes
 * around a value are dropped (§4.1.1).
 */
export function cookieValue(header: HeaderValue, name: string): string | undefined {
  const lines = Array.isArray(header) ? header : header === undefined ? [] : [header];
  for (const line of lines) {
    for (const pair of line.split(';')) {
      const equals = pair.indexOf('=');
      if (equals === -1 || pair.slice(0, equals).trim() !== name) continue;
      const value = pair.slice(equals + 1).trim();
      return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
    }
  }
  return undefined;
}

/** What a redacted value becomes in a log line. */
export const REDACTED = '[redacted]';

/** Headers whose values are credentials, lower case (pino's `redact` paths can list them as `req.headers.…`). */
export const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie'] as const;

/** Query parameters whose values are credentials: the ticket, and the tokens some clients put there anyway. */
const CREDENTIAL_PARAMS = new Set(['ticket', 'token', 'access_token', 'id_token']);

/**
 * A request target fit for a log line: the values of `ticket`, `token`,
 * `access_token` and `id_token` in its query become `[redacted]`; the rest is
 * kept as sent. `/api/events?walls=a&ticket=abc` → `/api/events?walls=a&ticket=[redacted]`.
 */
export function redactTarget(target: string): string {
  const question = target.indexOf('?');
  if (question === -1) return target;
  const hash = target.indexOf('#', question);
  const query = target.slice(question + 1, hash === -1 ? undefined : hash);
  const redacted = query
    .split('&')
    .map((part) => {
      const equals = part.indexOf('=');
      const name = equals === -1 ? part : part.slice(0, equals);
      let decoded: string;
      try {
        decoded = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        decoded = name;
      }
      return CREDENTIAL_PARAMS.has(decoded.toLowerCase()) && equals !== -1 ? `${name}=${REDACTED}` : part;
    })
    .join('&');
  return `${target.slice(0, question + 1)}${redacted}${hash === -1 ? '' : target.slice(hash)}`;
}

/** A copy of `headers` with every credential header's value `[redacted]`. */
export function redactHeaders<T extends Record<string, unknown>>(headers: T): T {
  const copy: Record<string, unknown> = { ...headers };
  for (const name of Object.keys(copy)) {
    if ((CREDENTIAL_HEADERS as readonly string[]).includes(name.toLowerCase())) copy[name] = REDACTED;
  }
  return copy as T;
}
