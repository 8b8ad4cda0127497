/**
 * Environment variables and command-line flags → one validated Config.
 *
 * `SETTINGS` is the one table of every setting: config.ts parses it, `--help`
 * prints it, and the README's configuration table is generated from it
 * (test/unit/config.test.ts keeps the two equal). A flag is the variable's
 * name without `WALLCAST_`, in kebab case: `WALLCAST_HEARTBEAT_MS=5000` is
 * `--heartbeat-ms 5000` (or `--heartbeat-ms=5000`). Flags win over the
 * environment. A bad value throws a ConfigError whose message is the one
 * line `main.ts` prints before exiting.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MAX_AUTHOR_CHARS } from './message.js';

export interface RateLimit {
  posts: number;
  perMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Source = Record<string, string | undefined>;

interface Setting<T> {
  variable: string;
  /** The default as the table shows it. */
  shown: string;
  meaning: string;
  /** `raw` is undefined when the setting is not given. */
  parse(raw: string | undefined, variable: string): T;
}

function setting<T>(
  variable: string,
  shown: string,
  meaning: string,
  parse: (raw: string | undefined, variable: string) => T,
): Setting<T> {
  return { variable, shown, meaning, parse };
}

const fail = (variable: string, raw: string, expected: string): never => {
  throw new ConfigError(`${variable}=${JSON.stringify(raw)} is not ${expected}`);
};

/** A whole number from `min` to `max`; `fallback` when not given. */
const integer =
  (fallback: number, min: number, max: number) =>
  (raw: string | undefined, variable: string): number => {
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      fail(variable, raw, `a whole number from ${min} to ${max}`);
    }
    return Number(raw);
  };

const optionalInteger =
  (min: number, max: number) =>
  (raw: string | undefined, variable: string): number | undefined =>
    raw === undefined ? undefined : integer(0, min, max)(raw, variable);

const text =
  (fallback: string) =>
  (raw: string | undefined): string =>
    raw ?? fallback;

/**
 * A secret. An empty one (a missing secret in a compose file, say) is
 * refused: it would silently leave open what it was meant to close.
 */
const token = (raw: string | undefined, variable: string): string | undefined => {
  if (raw === undefined) return undefined;
  if (raw === '') throw new ConfigError(`${variable} is set but empty: give it a value, or unset it`);
  if (!/^[\x21-\x7e]{8,}$/.test(raw)) {
    throw new ConfigError(`${variable} must be at least 8 printable ASCII characters without spaces`);
  }
  return raw;
};

const UNITS_MS: Record<string, number> = {
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  d: 86_400_000,
};

/** `20/min`, `5/s`, `100/h`; `off`. */
const rateLimit = (raw: string | undefined, variable: string): RateLimit | undefined => {
  if (raw === undefined || raw === 'off') return undefined;
  const match = /^(\d+)\/(s|sec|m|min|h|hour)$/.exec(raw);
  const posts = Number(match?.[1]);
  const perMs = UNITS_MS[match?.[2] ?? ''];
  if (match === null || perMs === undefined || posts < 1) {
    return fail(variable, raw, 'a rate: use POSTS/UNIT with UNIT s, min or h (e.g. 20/min)');
  }
  return { posts, perMs };
};

/** `30d`, `12h`, `90m`, `3600s`; `off`. */
const duration = (raw: string | undefined, variable: string): number | undefined => {
  if (raw === undefined || raw === 'off') return undefined;
  const match = /^(\d{1,6})(s|m|h|d)$/.exec(raw);
  const unitMs = UNITS_MS[match?.[2] ?? ''];
  if (match === null || unitMs === undefined || Number(match[1]) < 1) {
    return fail(variable, raw, 'a duration: a whole number and s, m, h or d (e.g. 30d)');
  }
  return Number(match[1]) * unitMs;
};

const store = (raw: string | undefined, variable: string): string => {
  const value = raw ?? 'sqlite:data/wallcast.db';
  if (!(value === 'memory' || /^sqlite:.+/.test(value) || /^rediss?:\/\/.+/.test(value))) {
    fail(variable, value, 'a store: use memory, sqlite:PATH or redis://HOST:PORT');
  }
  return value;
};

const oneOf =
  <T extends string>(fallback: T, values: readonly T[]) =>
  (raw: string | undefined, variable: string): T => {
    if (raw === undefined) return fallback;
    if (!values.includes(raw as T)) fail(variable, raw, `one of ${values.join(', ')}`);
    return raw as T;
  };

/**
 * Proxies whose `X-Forwarded-For` is believed: addresses or IPv4/IPv6
 * CIDR blocks, comma-separated, or `loopback`.
 */
const trustedProxies = (raw: string | undefined, variable: string): string[] => {
  if (raw === undefined || raw === 'off') return [];
  const entries = raw.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    if (!(entry === 'loopback' || /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(entry))) {
      fail(variable, raw, 'a list of proxy addresses or CIDR blocks (e.g. 10.0.0.0/8,loopback)');
    }
  }
  return entries;
};

/** Origins allowed to use the API from their pages: `*`, or `https://a.example,http://localhost:3000`. */
const origins = (raw: string | undefined, variable: string): string[] => {
  if (raw === undefined || raw === 'off') return [];
  if (raw.trim() === '*') return ['*'];
  const entries = raw.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    let url: URL | undefined;
    try {
      url = new URL(entry);
    } catch {
      url = undefined;
    }
    if (url === undefined || url.origin !== entry || !/^https?:$/.test(url.protocol)) {
      fail(variable, raw, 'a list of origins such as https://a.example,http://localhost:3000, or *');
    }
  }
  return entries;
};

/** A PEM file, read at start: a path that cannot be read is a bad setting, not a later crash. */
const pemFile = (raw: string | undefined, variable: string): Buffer | undefined => {
  if (raw === undefined) return undefined;
  try {
    const pem = readFileSync(raw);
    if (!pem.includes('-----BEGIN ')) throw new Error('not a PEM file');
    return pem;
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError(`${variable}=${JSON.stringify(raw)} cannot be read as a PEM file (${reason})`);
  }
};

/** Every setting, in the order `--help` and the README list them. */
export const SETTINGS = {
  port: setting(
    'PORT',
    '8080',
    'listen port (`0` = any free port; the chosen port is logged)',
    integer(8080, 0, 65535),
  ),
  host: setting('HOST', '127.0.0.1', 'listen address (`0.0.0.0` in the container)', text('127.0.0.1')),
  tlsCert: setting(
    'WALLCAST_TLS_CERT',
    'unset',
    'a PEM certificate (chain): with `WALLCAST_TLS_KEY`, serves HTTPS with HTTP/2 and HTTP/1.1',
    pemFile,
  ),
  tlsKey: setting('WALLCAST_TLS_KEY', 'unset', "the certificate's PEM private key", pemFile),
  store: setting(
    'WALLCAST_STORE',
    'sqlite:data/wallcast.db',
    '`memory`, `sqlite:PATH`, or `redis://HOST:PORT/DB` (`?prefix=` sets the key prefix, default `wallcast:`)',
    store,
  ),
  historySize: setting('WALLCAST_HISTORY', '1000', 'messages kept per wall for replay', integer(1000, 1, 1_000_000)),
  historyBytes: setting(
    'WALLCAST_HISTORY_BYTES',
    '1048576',
    'bytes of messages kept per wall (the oldest go first; the newest is always kept)',
    integer(1_048_576, 65_536, 1 << 30),
  ),
  maxWalls: setting(
    'WALLCAST_MAX_WALLS',
    '1000',
    'walls with history per store; a post that would start another is refused (`507`)',
    integer(1000, 1, 10_000_000),
  ),
  retentionMs: setting(
    'WALLCAST_RETENTION',
    'off',
    'messages older than this are deleted, e.g. `30d`, `12h` (`off`: kept until pushed out)',
    duration,
  ),
  backlog: setting(
    'WALLCAST_BACKLOG',
    '50',
    'messages a fresh stream or page starts with',
    optionalInteger(0, 1_000_000),
  ),
  heartbeatMs: setting(
    'WALLCAST_HEARTBEAT_MS',
    '15000',
    'idle time before a heartbeat comment',
    integer(15_000, 10, 3_600_000),
  ),
  maxBodyChars: setting(
    'WALLCAST_MAX_BODY_CHARS',
    '2000',
    'longest message body (code points)',
    integer(2000, 1, 10_000),
  ),
  publishToken: setting(
    'WALLCAST_PUBLISH_TOKEN',
    'unset',
    'when set, posting needs `Authorization: Bearer …` (reading stays open); empty is refused',
    token,
  ),
  adminToken: setting(
    'WALLCAST_ADMIN_TOKEN',
    'unset',
    'when set, enables `DELETE /api/walls/{wall}/messages/{id}` with `Authorization: Bearer …`',
    token,
  ),
  rateLimit: setting(
    'WALLCAST_RATE_LIMIT',
    'off',
    'posts per client (an IPv4 address, an IPv6 /64), e.g. `20/min`, `5/s`, `100/h`; shared by the instances on Redis',
    rateLimit,
  ),
  trustProxy: setting(
    'WALLCAST_TRUST_PROXY',
    'off',
    'proxies whose `X-Forwarded-For` names the client, e.g. `loopback` or `10.0.0.0/8,192.168.1.2`',
    trustedProxies,
  ),
  corsOrigins: setting(
    'WALLCAST_CORS_ORIGINS',
    'off',
    'pages on these origins may use the API (streams, reads, posts), e.g. `https://a.example,http://localhost:3000`, or `*`',
    origins,
  ),
  maxSubscribers: setting(
    'WALLCAST_MAX_SUBSCRIBERS',
    'unset (no cap)',
    'open streams per instance; past it, `503` with `Retry-After`',
    optionalInteger(1, 10_000_000),
  ),
  slowClientBytes: setting(
    'WALLCAST_SLOW_CLIENT_BYTES',
    '1048576',
    'bytes queued for one stream before it is disconnected',
    integer(1_048_576, 1024, 1 << 30),
  ),
  sendTimeoutMs: setting(
    'WALLCAST_SEND_TIMEOUT_MS',
    '60000',
    'a connection that takes nothing we send (and sends nothing) for this long is closed',
    integer(60_000, 100, 3_600_000),
  ),
  requestTimeoutMs: setting(
    'WALLCAST_REQUEST_TIMEOUT_MS',
    '30000',
    "a request's headers and body must arrive within this, or the connection is closed",
    integer(30_000, 100, 3_600_000),
  ),
  longPollMs: setting(
    'WALLCAST_LONGPOLL_MS',
    '25000',
    'Tornado-compat long-poll timeout',
    integer(25_000, 10, 3_600_000),
  ),
  metricsPort: setting(
    'WALLCAST_METRICS_PORT',
    'unset',
    'serves `/metrics` on this port (on `HOST`) and not on the public one',
    optionalInteger(0, 65535),
  ),
  logFormat: setting(
    'WALLCAST_LOG_FORMAT',
    'json',
    '`json` (one object per line) or `pretty` (for people)',
    oneOf('json', ['json', 'pretty'] as const),
  ),
  accessLog: setting(
    'WALLCAST_ACCESS_LOG',
    'off',
    '`on`: a log line per request (method, path, status, time), streams when they open',
    oneOf('off', ['off', 'on'] as const),
  ),
  logLevel: setting(
    'WALLCAST_LOG_LEVEL',
    'info',
    'least level logged: `debug`, `info`, `warn`, `error` or `silent`',
    oneOf('info', ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const),
  ),
} satisfies Record<string, Setting<unknown>>;

type Settings = typeof SETTINGS;

export type Config = { [K in keyof Settings]: ReturnType<Settings[K]['parse']> } & {
  backlog: number;
  /** Largest request body accepted: the longest valid body in any encoding clients use (see below). */
  maxRequestBytes: number;
};

/**
 * The most bytes one code point takes on the wire: a character outside the
 * BMP is a JSON surrogate pair `\uD83D\uDE00` (12 bytes), or 4 UTF-8 bytes
 * percent-encoded in a form (12 bytes).
 */
const MAX_WIRE_BYTES_PER_CHAR = 12;
/** Field names, separators, `next`, the idempotency key, multipart boundaries. */
const REQUEST_OVERHEAD_BYTES = 8 * 1024;

function flagName(variable: string): string {
  return `--${variable
    .replace(/^WALLCAST_/, '')
    .toLowerCase()
    .replace(/_/g, '-')}`;
}

/** `--name value` and `--name=value` flags into variable names; `--help` and `--version` are main.ts's. */
function parseFlags(argv: readonly string[]): Source {
  const byFlag = new Map(Object.values(SETTINGS).map((s) => [flagName(s.variable).slice(2), s.variable]));
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: Object.fromEntries([...byFlag.keys()].map((name) => [name, { type: 'string' as const }])),
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    const { code = '', message = String(error) } = error as { code?: string; message?: string };
    const option = /'(--[^' ]+)/.exec(message)?.[1] ?? message;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new ConfigError(`unknown option ${option} (see --help)`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new ConfigError(`${option} needs a value`);
    throw new ConfigError(`${message.split('\n')[0]} (see --help)`);
  }
  const values: Source = {};
  for (const [name, value] of Object.entries(parsed.values)) {
    values[byFlag.get(name) as string] = String(value);
  }
  return values;
}

/** `WALLCAST_*` variables that are no setting: a misspelt one would silently be ignored otherwise. */
export function unknownVariables(env: Source): string[] {
  const known = new Set(Object.values(SETTINGS).map((s) => s.variable));
  return Object.keys(env).filter((name) => name.startsWith('WALLCAST_') && !known.has(name));
}

export function loadConfig(env: Source = process.env, argv: readonly string[] = []): Config {
  const source: Source = { ...env, ...parseFlags(argv) };
  const parsed: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(SETTINGS) as [string, Setting<unknown>][]) {
    const raw = source[entry.variable];
    // An empty variable is an unset one, except for secrets, which refuse it.
    parsed[key] = entry.parse(raw === '' && entry.parse !== token ? undefined : raw, entry.variable);
  }
  const config = parsed as Omit<Config, 'backlog' | 'maxRequestBytes'> & { backlog: number | undefined };
  // The default backlog shrinks with a small history; an explicit one may not exceed it.
  const backlog = config.backlog ?? Math.min(50, config.historySize);
  if (backlog > config.historySize) {
    throw new ConfigError(`WALLCAST_BACKLOG=${backlog} is more than WALLCAST_HISTORY=${config.historySize}`);
  }
  // A stream idle between heartbeats (sent up to a quarter late, by the sweep), or a long
  // poll waiting, must not look like a dead client.
  for (const [variable, ms, factor] of [
    ['WALLCAST_HEARTBEAT_MS', config.heartbeatMs, 1.5],
    ['WALLCAST_LONGPOLL_MS', config.longPollMs, 1],
  ] as const) {
    if (ms * factor >= config.sendTimeoutMs) {
      throw new ConfigError(
        `${variable}=${ms} is too long for WALLCAST_SEND_TIMEOUT_MS=${config.sendTimeoutMs}: ` +
          `keep it under ${Math.floor(config.sendTimeoutMs / factor)}`,
      );
    }
  }
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw new ConfigError('WALLCAST_TLS_CERT and WALLCAST_TLS_KEY go together: set both, or neither');
  }
  const maxRequestBytes = (config.maxBodyChars + MAX_AUTHOR_CHARS) * MAX_WIRE_BYTES_PER_CHAR + REQUEST_OVERHEAD_BYTES;
  return { ...config, backlog, maxRequestBytes };
}

/**
 * The settings as the start-up log shows them: every one, secrets as `***`
 * and a password in a store URL too, certificates as whether they are set.
 */
export function settingsSummary(config: Config): Record<string, unknown> {
  const summary: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(SETTINGS) as [keyof Config & keyof Settings, Setting<unknown>][]) {
    const value = config[key];
    if (entry.parse === token) summary[key] = value === undefined ? 'unset' : '***';
    else if (Buffer.isBuffer(value)) summary[key] = 'set';
    else if (key === 'store') summary[key] = redactPassword(String(value));
    else if (key === 'rateLimit' && value !== undefined)
      summary[key] = `${config.rateLimit?.posts}/${(config.rateLimit?.perMs ?? 0) / 1000}s`;
    else summary[key] = value ?? 'unset';
  }
  summary.backlog = config.backlog;
  return summary;
}

/** A URL fit for a log line: a password in it is replaced by `***`. */
export function redactPassword(url: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url;
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/** The settings as the README's Markdown table. */
export function settingsTable(): string {
  const rows = Object.values(SETTINGS).map((s) => `| \`${s.variable}\` | \`${s.shown}\` | ${s.meaning} |`);
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

/** The settings as `--help` prints them: variable, flag, default, meaning. */
export function settingsHelp(): string {
  return Object.values(SETTINGS)
    .map((s) => {
      const meaning = s.meaning.replace(/`/g, '');
      return `  ${s.variable} (${flagName(s.variable)})\n      ${meaning}\n      default: ${s.shown}`;
    })
    .join('\n');
}
