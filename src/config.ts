/**
 * Environment variables and command-line flags → one validated Config.
 * A flag is the variable's name without `WALLCAST_`, in kebab case:
 * `WALLCAST_HEARTBEAT_MS=5000` is `--heartbeat-ms 5000` (or `--heartbeat-ms=5000`).
 * Flags win over the environment. A bad value throws a ConfigError whose
 * message is the one line `main.ts` prints before exiting.
 */

export interface RateLimit {
  posts: number;
  perMs: number;
}

export interface Config {
  /** Listen port; 0 picks a free one. Default 8080. */
  port: number;
  /** Listen address. Default 127.0.0.1. */
  host: string;
  /** `memory`, `sqlite:PATH` or `redis://…`. Default `sqlite:data/wallcast.db`. */
  store: string;
  /** Messages kept per wall for replay. Default 1000. */
  historySize: number;
  /** Messages a fresh stream or page starts with. Default 50. */
  backlog: number;
  /** Idle time before a heartbeat comment. Default 15 000. */
  heartbeatMs: number;
  /** Longest message body in code points. Default 2000. */
  maxBodyChars: number;
  /** When set, posting needs `Authorization: Bearer …`. */
  publishToken: string | undefined;
  /** Posts per client and window; undefined = off. */
  rateLimit: RateLimit | undefined;
  /** Open streams per instance; undefined = no cap. */
  maxSubscribers: number | undefined;
  /** Bytes queued for one stream before it is disconnected. Default 1 MiB. */
  slowClientBytes: number;
  /** Tornado-compat long-poll timeout. Default 25 000. */
  longPollMs: number;
  /** When set, enables DELETE of messages. */
  adminToken: string | undefined;
  /** Largest request body accepted. 16 KiB. */
  maxRequestBytes: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Source = Record<string, string | undefined>;

const VARIABLES = [
  'PORT',
  'HOST',
  'WALLCAST_STORE',
  'WALLCAST_HISTORY',
  'WALLCAST_BACKLOG',
  'WALLCAST_HEARTBEAT_MS',
  'WALLCAST_MAX_BODY_CHARS',
  'WALLCAST_PUBLISH_TOKEN',
  'WALLCAST_RATE_LIMIT',
  'WALLCAST_MAX_SUBSCRIBERS',
  'WALLCAST_SLOW_CLIENT_BYTES',
  'WALLCAST_LONGPOLL_MS',
  'WALLCAST_ADMIN_TOKEN',
] as const;
type Variable = (typeof VARIABLES)[number];

function flagName(variable: Variable): string {
  return `--${variable
    .replace(/^WALLCAST_/, '')
    .toLowerCase()
    .replace(/_/g, '-')}`;
}

/** Reads `--name value` and `--name=value` flags into variable names. */
function parseFlags(argv: readonly string[]): Source {
  const byFlag = new Map(VARIABLES.map((v) => [flagName(v), v]));
  const values: Source = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const variable = byFlag.get(name);
    if (variable === undefined) {
      throw new ConfigError(`unknown option ${name} (options: ${[...byFlag.keys()].join(', ')})`);
    }
    let value: string | undefined;
    if (eq !== -1) {
      value = arg.slice(eq + 1);
    } else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined) throw new ConfigError(`${name} needs a value`);
    values[variable] = value;
  }
  return values;
}

export function loadConfig(env: Source = process.env, argv: readonly string[] = []): Config {
  const source: Source = { ...env, ...parseFlags(argv) };
  const get = (v: Variable): string | undefined => {
    const value = source[v];
    return value === undefined || value === '' ? undefined : value;
  };
  const integer = (v: Variable, fallback: number, min: number, max: number): number => {
    const raw = get(v);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      throw new ConfigError(`${v}=${JSON.stringify(raw)} is not a whole number from ${min} to ${max}`);
    }
    return Number(raw);
  };
  const optionalInteger = (v: Variable, min: number, max: number): number | undefined =>
    get(v) === undefined ? undefined : integer(v, 0, min, max);

  const store = get('WALLCAST_STORE') ?? 'sqlite:data/wallcast.db';
  if (!(store === 'memory' || /^sqlite:.+/.test(store) || /^rediss?:\/\/.+/.test(store))) {
    throw new ConfigError(
      `WALLCAST_STORE=${JSON.stringify(store)} is not a store: use memory, sqlite:PATH or redis://HOST:PORT`,
    );
  }
  const historySize = integer('WALLCAST_HISTORY', 1000, 1, 1_000_000);
  // The default backlog shrinks with a small history; an explicit one may not exceed it.
  const backlog = integer('WALLCAST_BACKLOG', Math.min(50, historySize), 0, 1_000_000);
  if (backlog > historySize) {
    throw new ConfigError(`WALLCAST_BACKLOG=${backlog} is more than WALLCAST_HISTORY=${historySize}`);
  }
  return {
    port: integer('PORT', 8080, 0, 65535),
    host: get('HOST') ?? '127.0.0.1',
    store,
    historySize,
    backlog,
    heartbeatMs: integer('WALLCAST_HEARTBEAT_MS', 15_000, 10, 3_600_000),
    maxBodyChars: integer('WALLCAST_MAX_BODY_CHARS', 2000, 1, 10_000),
    publishToken: token(get('WALLCAST_PUBLISH_TOKEN'), 'WALLCAST_PUBLISH_TOKEN'),
    rateLimit: parseRateLimit(get('WALLCAST_RATE_LIMIT')),
    maxSubscribers: optionalInteger('WALLCAST_MAX_SUBSCRIBERS', 1, 10_000_000),
    slowClientBytes: integer('WALLCAST_SLOW_CLIENT_BYTES', 1_048_576, 1024, 1 << 30),
    longPollMs: integer('WALLCAST_LONGPOLL_MS', 25_000, 10, 3_600_000),
    adminToken: token(get('WALLCAST_ADMIN_TOKEN'), 'WALLCAST_ADMIN_TOKEN'),
    maxRequestBytes: 16 * 1024,
  };
}

function token(value: string | undefined, variable: Variable): string | undefined {
  if (value !== undefined && !/^[\x21-\x7e]{8,}$/.test(value)) {
    throw new ConfigError(`${variable} must be at least 8 printable ASCII characters without spaces`);
  }
  return value;
}

const WINDOWS: Record<string, number> = { s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000, hour: 3_600_000 };

/** `20/min`, `5/s`, `100/h`. */
function parseRateLimit(value: string | undefined): RateLimit | undefined {
  if (value === undefined || value === 'off') return undefined;
  const match = /^(\d+)\/(s|sec|m|min|h|hour)$/.exec(value);
  const posts = Number(match?.[1]);
  const perMs = WINDOWS[match?.[2] ?? ''];
  if (match === null || perMs === undefined || posts < 1) {
    throw new ConfigError(
      `WALLCAST_RATE_LIMIT=${JSON.stringify(value)} is not a rate: use POSTS/UNIT with UNIT s, min or h (e.g. 20/min)`,
    );
  }
  return { posts, perMs };
}
