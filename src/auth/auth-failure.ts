/**
 * Why a request was refused for who it is (issue 16, "Errors"). The auth
 * module throws these and knows nothing of HTTP responses; `app.onError`
 * maps one to the contract's body `{"error":{"code": reason, "message"}}`,
 * the status below, and the `WWW-Authenticate` header below.
 *
 * Messages are for the developer holding the token: they say what is wrong
 * and when, and never contain the token, a ticket or a cookie value.
 */

export const AUTH_FAILURE_REASONS = [
  /** This needs a token and none came. */
  'token_missing',
  /** Malformed, too long, bad signature, wrong algorithm, issuer or audience, unknown key id, bad claims. */
  'token_invalid',
  /** Past `exp`, or before `nbf`: the message says which and when. */
  'token_expired',
  /** A ticket that is unknown, used, expired, or for other walls. */
  'ticket_invalid',
  /** A valid token without the grant: the message names the action and the walls. */
  'insufficient_scope',
] as const;

export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];

export class AuthFailure extends Error {
  override name = 'AuthFailure';

  constructor(
    readonly reason: AuthFailureReason,
    message: string,
  ) {
    super(message);
  }

  /** 403 for a token that lacks a grant (RFC 6750 §3.1), 401 for everything else. */
  get status(): 401 | 403 {
    return this.reason === 'insufficient_scope' ? 403 : 401;
  }
}

/**
 * The challenge alone, for a 401 that is no AuthFailure: the publish and
 * admin tokens are bearer tokens too, and RFC 9110 §15.5.2 requires the
 * header on every 401.
 */
export const BEARER_CHALLENGE = 'Bearer realm="wallcast"';

/**
 * The `WWW-Authenticate` header for a failure (RFC 6750 §3; RFC 9110 §15.5.2
 * requires one on every 401). A request that sent no credential gets the
 * challenge alone, as RFC 6750 §3.1 asks ("SHOULD NOT include an error
 * code"); every other failure names its RFC 6750 error code with the
 * message as `error_description`.
 */
export function wwwAuthenticate(failure: AuthFailure): string {
  const challenge = BEARER_CHALLENGE;
  if (failure.reason === 'token_missing') return challenge;
  const error = failure.reason === 'insufficient_scope' ? 'insufficient_scope' : 'invalid_token';
  return `${challenge}, error="${error}", error_description="${quotable(failure.message)}"`;
}

/**
 * RFC 6750 §3: `error_description` is limited to %x20-21 / %x23-5B / %x5D-7E:
 * printable ASCII without `"` and `\`. Quotes become `'`; anything else outside
 * the set (a dash "–", say) becomes `?`.
 */
function quotable(text: string): string {
  return text.replace(/"/g, "'").replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?');
}

/** `a`, `a and b`, `a, b and c`: walls named in a message. */
export function listNames(walls: readonly string[]): string {
  if (walls.length <= 1) return walls.join('');
  return `${walls.slice(0, -1).join(', ')} and ${walls[walls.length - 1]}`;
}
