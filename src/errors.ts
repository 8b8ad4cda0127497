/**
 * The error family of the HTTP API. Every failure a client can cause or
 * observe is one of these; `app.onError` maps them to the contract's body
 * `{"error":{"code","message"}}` (or a small HTML page for browsers).
 * Anything else that reaches `onError` is a bug and answers a generic 500.
 */
export type ErrorCode =
  | 'invalid_wall'
  | 'invalid_body'
  | 'invalid_author'
  | 'invalid_json'
  | 'invalid_next'
  | 'invalid_cursor'
  | 'invalid_limit'
  | 'invalid_idempotency_key'
  | 'invalid_client'
  | 'invalid_presence'
  | 'bad_request'
  | 'unauthorized'
  | 'token_missing'
  | 'token_invalid'
  | 'token_expired'
  | 'ticket_invalid'
  | 'forbidden'
  | 'insufficient_scope'
  | 'not_found'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'idempotency_key_reused'
  | 'rate_limited'
  | 'unavailable'
  | 'too_many_walls'
  | 'internal';

const STATUS_OF: Record<ErrorCode, number> = {
  invalid_wall: 400,
  invalid_body: 400,
  invalid_author: 400,
  invalid_json: 400,
  invalid_next: 400,
  invalid_cursor: 400,
  invalid_limit: 400,
  invalid_idempotency_key: 400,
  invalid_client: 400,
  invalid_presence: 400,
  bad_request: 400,
  unauthorized: 401,
  token_missing: 401,
  token_invalid: 401,
  token_expired: 401,
  ticket_invalid: 401,
  forbidden: 403,
  insufficient_scope: 403,
  not_found: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_key_reused: 422,
  rate_limited: 429,
  unavailable: 503,
  too_many_walls: 507,
  internal: 500,
};

/** Why a 503 was answered: its code is the same, its causes are told apart (in the metrics). */
export type UnavailableReason =
  | 'draining'
  | 'subscriber_cap'
  | 'store_unavailable'
  | 'connection_busy'
  | 'keys_unavailable';

export class ApiError extends Error {
  readonly status: number;
  /** For a 503: what was unavailable. */
  reason?: UnavailableReason;

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra response headers, e.g. `Retry-After` on 429 and 503. */
    readonly headers: Record<string, string> = {},
    /** The code's own status unless given (Hono's exceptions bring theirs). */
    status: number = STATUS_OF[code],
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

/** 503 with the `Retry-After` the contract asks for. */
export function unavailable(message: string, reason: UnavailableReason, retryAfterSeconds = 1): ApiError {
  const error = new ApiError('unavailable', message, { 'Retry-After': String(retryAfterSeconds) });
  error.reason = reason;
  return error;
}

/** The contract's JSON error body. */
export function errorBody(error: ApiError): { error: { code: string; message: string } } {
  return { error: { code: error.code, message: error.message } };
}
