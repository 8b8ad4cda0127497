/**
 * Environment variables and command-line flags → one validated Config.
 *
 * `SETTINGS` is the one table of every setting: config.ts parses it, `--help`
 * prints it, and the README's configuration table is generated from it
 * (test/unit/config.test.ts keeps the two equal). A flag is the variable's
 * name without `WALLCAST_`, in kebab case: `WALLCAST_HEARTBEAT_MS=5000` is
 * `--heartbeat-ms 5000` (or `--heartbeat-ms=5000`). Flags win over the
 * environment. A bad value throws a ConfigError whose message is the one
 * line `main.ts` prints before exiting. How a setting is declared, and
 * the kinds of value, are in config-values.ts; the store's value, which no
 * other module reads as text, is parsed here.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { AUTH_SETTINGS, checkAuthSettings } from './auth/settings.js';
import { DEFAULT_REDIS_PREFIX, store } from './config-store.js';
import {
  ConfigError,
  duration,
  integer,
  oneOf,
  origins,
  type Parse,
  pemFile,
  rateLimit,
  type Setting,
  setting,
  text,
  token,
  trustedProxies,
} from './config-values.js';
import { MAX_AUTHOR_CHARS } from './message.js';

type Source = Record<string, string | undefined>;

const secret = { secret: true } as const;
const fileSet = { summary: (pem: Buffer | undefined) => (pem === undefined ? 'unset' : 'set') };

/**
 * Issue 16's settings, declared with their parsers in auth/settings.ts: an
 * empty one is unset (the secret refuses it: see loadConfig), and a bad one
 * is this module's one-line ConfigError.
 */
function authSetting<T>(
  entry: { variable: string; shown: string; meaning: string; parse: (raw: string | undefined, variable: string) => T },
  options: { secret?: true } = {},
): Setting<T> {
  return {
    variable: entry.variable,
    shown: entry.shown,
    meaning: entry.meaning,
    secret: options.secret === true,
    read(raw) {
      try {
        return entry.parse(raw, entry.variable);
      } catch (error) {
        throw new ConfigError((error as Error).message);
      }
    },
    summary: (value) => (value === undefined ? 'unset' : options.secret ? '***' : JSON.parse(JSON.stringify(value))),
  };
}

/** The most workers a machine runs: more is a typo, not a machine. */
const MAX_WORKERS = 256;

/** `auto` (the cores this process may use) or a whole number. */
const workerCount: Parse<number> = (raw, variable) =>
  raw === 'auto' ? availableParallelism() : integer(1, MAX_WORKERS)(raw, variable);

/** The backlog when WALLCAST_BACKLOG is not given (or WALLCAST_HISTORY, when that is smaller). */
const DEFAULT_BACKLOG = 50;

/** Every setting, in the order `--help` and the README list them. */
export const SETTINGS = {
  port: setting('PORT', '8080', 'listen port (`0` = any free port; the chosen port is logged)', integer(0, 65535)),
  host: setting('HOST', '127.0.0.1', 'listen address (`0.0.0.0` in the container)', text),
  tlsCert: setting(
    'WALLCAST_TLS_CERT',
    undefined,
    'a PEM certificate (chain): with `WALLCAST_TLS_KEY`, serves HTTPS with HTTP/2 and HTTP/1.1',
    pemFile,
    fileSet,
  ),
  tlsKey: setting('WALLCAST_TLS_KEY', undefined, "the certificate's PEM private key", pemFile, fileSet),
  store: setting(
    'WALLCAST_STORE',
    'sqlite:data/wallcast.db',
    `\`memory\`, \`sqlite:PATH\`, \`redis://HOST:PORT/DB\` (\`rediss://\` for TLS), \`redis+cluster://HOST:PORT,HOST:PORT/\` or \`redis+sentinel://HOST:PORT,HOST:PORT/MASTERNAME\`; \`?prefix=\` sets the key prefix (default \`${DEFAULT_REDIS_PREFIX}\`), \`?wait=N\` answers a post once N replicas have it, \`?partitions=\` (default 16, fixed for the life of the data)`,
    store,
    { summary: (value) => value.label },
  ),
  historySize: setting('WALLCAST_HISTORY', '1000', 'messages kept per wall for replay', integer(1, 1_000_000)),
  historyBytes: setting(
    'WALLCAST_HISTORY_BYTES',
    '1048576',
    'bytes of messages kept per wall (the oldest go first; the newest is always kept)',
    integer(65_536, 1 << 30),
  ),
  maxWalls: setting(
    'WALLCAST_MAX_WALLS',
    '1000',
    'walls with history per store; a post that would start another is refused (`507`)',
    integer(1, 10_000_000),
  ),
  retentionMs: setting(
    'WALLCAST_RETENTION',
    'off',
    'messages older than this are deleted, e.g. `30d`, `12h` (`off`: kept until pushed out)',
    duration,
  ),
  backlog: setting(
    'WALLCAST_BACKLOG',
    undefined,
    'messages a fresh stream or page starts with',
    integer(0, 1_000_000),
    { unset: String(DEFAULT_BACKLOG) },
  ),
  heartbeatMs: setting(
    'WALLCAST_HEARTBEAT_MS',
    '15000',
    'idle time before a heartbeat comment',
    integer(10, 3_600_000),
  ),
  maxBodyChars: setting('WALLCAST_MAX_BODY_CHARS', '2000', 'longest message body (code points)', integer(1, 10_000)),
  publishToken: setting(
    'WALLCAST_PUBLISH_TOKEN',
    undefined,
    'when set, posting needs `Authorization: Bearer …` (reading stays open); empty is refused',
    token,
    secret,
  ),
  adminToken: setting(
    'WALLCAST_ADMIN_TOKEN',
    undefined,
    'when set, enables `DELETE /api/walls/{wall}/messages/{id}` with `Authorization: Bearer …`',
    token,
    secret,
  ),
  jwtSecret: authSetting(AUTH_SETTINGS.jwtSecret, secret),
  jwtPublicKey: authSetting(AUTH_SETTINGS.jwtPublicKey),
  jwksUrl: authSetting(AUTH_SETTINGS.jwksUrl),
  jwtIssuer: authSetting(AUTH_SETTINGS.jwtIssuer),
  jwtAudience: authSetting(AUTH_SETTINGS.jwtAudience),
  privateWalls: authSetting(AUTH_SETTINGS.privateWalls),
  openWalls: authSetting(AUTH_SETTINGS.openWalls),
  tokenCookie: authSetting(AUTH_SETTINGS.tokenCookie),
  rateLimit: setting(
    'WALLCAST_RATE_LIMIT',
    'off',
    'posts per client (an IPv4 address, an IPv6 /64), e.g. `20/min`, `5/s`, `100/h`; shared by the instances on Redis',
    rateLimit,
    { summary: (limit) => (limit === undefined ? 'unset' : `${limit.posts}/${limit.perMs / 1000}s`) },
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
  presenceGraceMs: setting(
    'WALLCAST_PRESENCE_GRACE_MS',
    '10000',
    'how long a person stays counted after their last stream ends, so a reconnect within it changes nothing (`0`: none)',
    integer(0, 3_600_000),
  ),
  maxSubscribers: setting(
    'WALLCAST_MAX_SUBSCRIBERS',
    undefined,
    'open streams per instance (with workers: per machine, split among them); past it, `503` with `Retry-After`',
    integer(1, 10_000_000),
    { unset: 'unset (no cap)' },
  ),
  slowClientBytes: setting(
    'WALLCAST_SLOW_CLIENT_BYTES',
    '1048576',
    'bytes queued for one stream before it is disconnected',
    integer(1024, 1 << 30),
  ),
  sendTimeoutMs: setting(
    'WALLCAST_SEND_TIMEOUT_MS',
    '60000',
    'a connection that takes nothing we send (and sends nothing) for this long is closed',
    integer(100, 3_600_000),
  ),
  requestTimeoutMs: setting(
    'WALLCAST_REQUEST_TIMEOUT_MS',
    '30000',
    "a request's headers and body must arrive within this, or the connection is closed",
    integer(100, 3_600_000),
  ),
  longPollMs: setting('WALLCAST_LONGPOLL_MS', '25000', 'Tornado-compat long-poll timeout', integer(10, 3_600_000)),
  workers: setting(
    'WALLCAST_WORKERS',
    '1',
    'processes serving HTTP and streams: a number, or `auto` (one per core); above 1, a primary owns the store and feeds them',
    workerCount,
  ),
  workerQueueBytes: setting(
    'WALLCAST_WORKER_QUEUE_BYTES',
    '33554432',
    "with workers: bytes of events the primary holds for a worker that stopped taking them; past it, that worker's streams restart and resume",
    integer(65_536, 1 << 30),
  ),
  releaseParser: setting(
    'WALLCAST_RELEASE_PARSER',
    'on',
    "`off` keeps each HTTP/1.1 stream's parser (about 2.5 KB more per idle stream): the release uses Node internals",
    oneOf(['on', 'off'] as const),
  ),
  metricsPort: setting(
    'WALLCAST_METRICS_PORT',
    undefined,
    'serves `/metrics` on this port (on `HOST`) and not on the public one',
    integer(0, 65535),
  ),
  logFormat: setting(
    'WALLCAST_LOG_FORMAT',
    'auto',
    '`auto` (pretty on a terminal, JSON lines otherwise), `json` (one object per line) or `pretty` (for people)',
    oneOf(['auto', 'json', 'pretty'] as const),
  ),
  accessLog: setting(
    'WALLCAST_ACCESS_LOG',
    'off',
    '`on`: a log line per request (method, path, status, time), streams when they open',
    oneOf(['off', 'on'] as const),
  ),
  logLevel: setting(
    'WALLCAST_LOG_LEVEL',
    'info',
    'least level logged: `debug`, `info`, `warn`, `error` or `silent`',
    oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const),
  ),
} satisfies Record<string, Setting<unknown>>;

type Settings = typeof SETTINGS;

export type Config = { [K in keyof Settings]: ReturnType<Settings[K]['read']> } & {
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
    if (raw === '' && entry.secret) {
      throw new ConfigError(`${entry.variable} is set but empty: give it a value, or unset it`);
    }
    parsed[key] = entry.read(raw === '' ? undefined : raw);
  }
  const config = parsed as Omit<Config, 'backlog' | 'maxRequestBytes'> & { backlog: number | undefined };
  // The default backlog shrinks with a small history; an explicit one may not exceed it.
  const backlog = config.backlog ?? Math.min(DEFAULT_BACKLOG, config.historySize);
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
  try {
    checkAuthSettings(config);
  } catch (error) {
    throw new ConfigError((error as Error).message);
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
  for (const [key, entry] of Object.entries(SETTINGS) as [keyof Settings, Setting<unknown>][]) {
    summary[key] = entry.summary(config[key]);
  }
  summary.backlog = config.backlog;
  return summary;
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
