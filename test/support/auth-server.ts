/**
 * A real wallcast server for the auth e2e tests (issue 16): on port 0, its
 * whole log (debug level, access log on) captured, every credential a test
 * makes with it remembered, and `close()` failing if any of them reached a
 * log line. Requests go over node:http, so a test sends exactly the headers
 * it means (Origin, Sec-Fetch-Site, Cookie, a 16 KB Authorization).
 */
import http from 'node:http';
import type { JWTPayload } from 'jose';
import { expect } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type RunningServer, startServer } from '../../src/server.js';
import type { MessageStore } from '../../src/store/store.js';
import { within } from './deadlines.js';
import { capturingLogger, claims, secretText, signHmac } from './jwt.js';

/** The shared secret of these servers (WALLCAST_JWT_SECRET). */
export const SECRET = secretText(40);

export interface Call {
  method?: string;
  /** `Authorization: Bearer <bearer>`. */
  bearer?: string;
  /** The whole `Cookie` header. */
  cookie?: string;
  headers?: Record<string, string>;
  /** JSON unless `form` is set. */
  body?: unknown;
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  /** Defaults to `${method} ${path}`. */
  label?: string;
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body as received (for an event stream: what came in its first moments). */
  text: string;
  /** The body parsed, when it is JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: a test reads the fields it expects of the contract's JSON.
  json: any;
}

/** The contract's refusal, as a test expects it. */
export interface Refusal {
  status: 401 | 403;
  code: 'token_missing' | 'token_invalid' | 'token_expired' | 'ticket_invalid' | 'insufficient_scope';
  /** A pattern the message must match. */
  message?: RegExp;
}

/** How long an accepted event stream is read before `call` answers with what came. */
const STREAM_PEEK_MS = 300;

/** One HTTP request; an event stream is read for STREAM_PEEK_MS, then cut. */
export function call(base: string, path: string, options: Call = {}): Promise<Answer> {
  const method = options.method ?? (options.body !== undefined || options.form !== undefined ? 'POST' : 'GET');
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  if (options.bearer !== undefined) headers.Authorization = `Bearer ${options.bearer}`;
  if (options.cookie !== undefined) headers.Cookie = options.cookie;
  let payload: string | undefined;
  if (options.form !== undefined) {
    payload = new URLSearchParams(options.form).toString();
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
  } else if (options.body !== undefined) {
    payload = JSON.stringify(options.body);
    headers['Content-Type'] = 'application/json';
  }
  const answer = new Promise<Answer>((resolve, reject) => {
    const request = http.request(`${base}${path}`, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      const done = () => {
        let json: unknown;
        if (/json/.test(res.headers['content-type'] ?? '') && text !== '') json = JSON.parse(text);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      };
      if ((res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
        setTimeout(() => {
          request.destroy();
          done();
        }, STREAM_PEEK_MS);
      } else {
        res.on('end', done);
        res.on('error', reject);
      }
    });
    request.on('error', reject);
    request.end(payload);
  });
  return within(options.label ?? `${method} ${path}`, 5000, answer);
}

/** Expects `answer` to be the contract's refusal: status, code, message, and RFC 6750's WWW-Authenticate. */
export function expectRefusal(answer: Answer, refusal: Refusal): void {
  expect({ status: answer.status, code: answer.json?.error?.code }).toEqual({
    status: refusal.status,
    code: refusal.code,
  });
  const message = answer.json.error.message as string;
  if (refusal.message !== undefined) expect(message).toMatch(refusal.message);
  const challenge = answer.headers['www-authenticate'];
  if (refusal.code === 'token_missing') {
    // RFC 6750 §3.1: a request without a credential gets the challenge alone.
    expect(challenge).toBe('Bearer realm="wallcast"');
    return;
  }
  const error = refusal.code === 'insufficient_scope' ? 'insufficient_scope' : 'invalid_token';
  const quoted = message.replace(/"/g, "'").replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?');
  expect(challenge).toBe(`Bearer realm="wallcast", error="${error}", error_description="${quoted}"`);
}

export interface AuthServer {
  readonly url: string;
  readonly running: RunningServer;
  /** Every log line the server wrote, as JSON text. */
  readonly lines: string[];
  /** Remembers a credential value (token, ticket, cookie) that must never be logged; returns it. */
  remember<T extends string>(value: T): T;
  /** A token signed HS256 with SECRET: `sub` u42, an hour, `extra` added (see jwt.ts `claims`). */
  token(extra?: Record<string, unknown>): Promise<string>;
  /** A ticket from POST /api/tickets for `walls`, with `token`. */
  ticket(token: string, walls: string[]): Promise<string>;
  call(path: string, options?: Call): Promise<Answer>;
  /** Closes the server, then expects none of the remembered values in its log. */
  close(): Promise<void>;
}

/**
 * A server with `env`, memory store unless `env` or `store` say otherwise,
 * and WALLCAST_JWT_SECRET=SECRET unless `env` gives another key setting.
 */
export async function startAuthServer(env: Record<string, string> = {}, store?: MessageStore): Promise<AuthServer> {
  const { log, lines } = capturingLogger();
  const config = loadConfig({
    PORT: '0',
    WALLCAST_STORE: 'memory',
    WALLCAST_ACCESS_LOG: 'on',
    ...(env.WALLCAST_JWT_PUBLIC_KEY === undefined && env.WALLCAST_JWKS_URL === undefined
      ? { WALLCAST_JWT_SECRET: SECRET }
      : {}),
    ...env,
  });
  const running = await startServer(config, { log, store });
  const secrets = new Set<string>();
  const remember = <T extends string>(value: T): T => {
    secrets.add(value);
    return value;
  };
  const server: AuthServer = {
    url: running.url,
    running,
    lines,
    remember,
    token: async (extra = {}) => remember(await signHmac(claims(extra) as JWTPayload, SECRET)),
    ticket: async (token, walls) => {
      const answer = await call(running.url, '/api/tickets', { bearer: token, body: { walls }, label: 'a ticket' });
      expect(answer.status, answer.text).toBe(201);
      return remember(answer.json.ticket as string);
    },
    call: (path, options) => call(running.url, path, options),
    close: async () => {
      await running.close();
      expectNothingLogged(lines.join(''), [...secrets, SECRET]);
    },
  };
  return server;
}

/**
 * None of `values` in `log`, whole or by its most telling part (a JWT's
 * signature, which a truncated or re-encoded token would still show).
 */
export function expectNothingLogged(log: string, values: Iterable<string>): void {
  const leaks: string[] = [];
  for (const value of values) {
    const signature = value.split('.').at(-1) ?? value;
    if (log.includes(value) || (signature.length >= 16 && log.includes(signature))) leaks.push(value);
  }
  expect(leaks, 'credential values found in the log').toEqual([]);
}
