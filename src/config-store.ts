/**
 * `WALLCAST_STORE` → the typed store it names, parsed here once for
 * config.ts: no other module reads the setting as text (create-store.ts,
 * the post budget and the Redis store take the parsed value).
 */
import { fail, type Parse } from './config-values.js';

/** A node of a cluster, or a Sentinel. */
export interface HostPort {
  host: string;
  port: number;
}

/**
 * How to reach Redis (issue 19): one server, a cluster, or the primary a
 * group of Sentinels names. Each is a case of `redisTarget` below and one of
 * `connectRedis` (store/redis/connect.ts), and nowhere else.
 */
export type RedisEndpoint =
  | {
      mode: 'standalone';
      /** What ioredis takes: `redis://` or `rediss://` (TLS), with the user, password and `/DB` as given. */
      url: string;
    }
  | {
      mode: 'cluster';
      /** Where to learn the cluster's slot map: any of its nodes; the others are found from them. */
      nodes: HostPort[];
      username?: string;
      password?: string;
    }
  | {
      mode: 'sentinel';
      /** The Sentinels asked for the primary, in turn. */
      sentinels: HostPort[];
      /** The name the Sentinels monitor the primary under (`sentinel monitor NAME …`). */
      masterName: string;
      db: number;
      /** For the primary and its replicas; the Sentinels themselves are asked without a password. */
      username?: string;
      password?: string;
    };

/** A Redis and the part of its key space that is this deployment's: the store's keys, the post budget's. */
export interface RedisTarget {
  endpoint: RedisEndpoint;
  /** Put before every key (`?prefix=`, default `wallcast:`): several deployments may share one Redis. */
  prefix: string;
  /**
   * `?partitions=`: the partitions walls are hashed into (store/redis/partitions.ts);
   * absent: DEFAULT_REDIS_PARTITIONS. Fixed for the life of the data.
   */
  partitions?: number;
  /**
   * `?wait=N`: a post is acknowledged only once N replicas have it (Redis
   * `WAIT`); absent: 0, acknowledged once the primary has it.
   */
  wait?: number;
}

/** `WALLCAST_STORE`, parsed: the store to open. */
export type StoreConfig = {
  /** The setting as it was given, a password in it as `***`: for the start-up log and error lines. */
  label: string;
} & ({ kind: 'memory' } | { kind: 'sqlite'; path: string } | ({ kind: 'redis' } & RedisTarget));

export const DEFAULT_REDIS_PREFIX = 'wallcast:';
/** Enough to spread walls over a cluster of up to 8 masters within one partition of even (issue 19). */
export const DEFAULT_REDIS_PARTITIONS = 16;
/** More partitions than this cost every instance a feed reader each for no spread worth having. */
const MAX_REDIS_PARTITIONS = 256;
/** Replicas a post may wait for: more than any deployment runs per primary. */
const MAX_REDIS_WAIT = 16;

/** `memory`, `sqlite:PATH`, or a Redis URL (see `redisTarget`). */
export const store: Parse<StoreConfig> = (raw, variable) => {
  const label = redactPassword(raw);
  if (raw === 'memory') return { kind: 'memory', label };
  if (/^sqlite:./.test(raw)) return { kind: 'sqlite', path: raw.slice('sqlite:'.length), label };
  const redis = redisTarget(raw);
  if (typeof redis === 'string') return fail(variable, label, redis);
  if (redis !== undefined) return { kind: 'redis', ...redis, label };
  return fail(variable, label, 'a store: use memory, sqlite:PATH or redis://HOST:PORT/DB');
};

/**
 * A Redis URL → its target; undefined when `raw` is no Redis URL at all, a
 * string saying what is wrong when it is one that does not parse.
 *
 * - `redis://` or `rediss://` `[USER:PASSWORD@]HOST[:PORT][/DB]`: one Redis (ioredis reads the URL).
 * - `redis+cluster://[USER:PASSWORD@]HOST:PORT[,HOST:PORT…][/]`: a Redis Cluster, by any of its nodes.
 * - `redis+sentinel://[USER:PASSWORD@]HOST:PORT[,HOST:PORT…]/MASTERNAME[/DB]`: the primary Sentinels name.
 *
 * Each takes `?prefix=`, `?partitions=` and `?wait=`, which are taken out of the URL.
 */
function redisTarget(raw: string): RedisTarget | string | undefined {
  const many = /^redis\+(cluster|sentinel):\/\/(?:([^@/?#]*)@)?([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?$/.exec(raw);
  if (many !== null) return severalHosts(many[1] as 'cluster' | 'sentinel', many[2], many[3] ?? '', many[4], many[5]);
  if (/^rediss\+(cluster|sentinel):/.test(raw)) return 'TLS to a cluster or Sentinels is not supported yet';
  if (!/^rediss?:\/\/./.test(raw)) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if (!/^(\/\d*)?$/.test(url.pathname)) return undefined;
  const options = storeOptions(url.searchParams);
  if (typeof options === 'string') return options;
  for (const name of ['prefix', 'partitions', 'wait']) url.searchParams.delete(name);
  return { endpoint: { mode: 'standalone', url: url.toString() }, ...options };
}

/** `redis+cluster://` and `redis+sentinel://`: a list of hosts, which WHATWG URLs cannot hold. */
function severalHosts(
  mode: 'cluster' | 'sentinel',
  userInfo: string | undefined,
  hostList: string,
  path: string | undefined,
  query: string | undefined,
): RedisTarget | string {
  const defaultPort = mode === 'cluster' ? 6379 : 26379;
  const hosts: HostPort[] = [];
  for (const item of hostList.split(',')) {
    const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(item);
    const port = Number(match?.[2] ?? defaultPort);
    if (match === null || port < 1 || port > 65535) {
      return `redis+${mode}://HOST:PORT,HOST:PORT…: ${JSON.stringify(item)} is not a HOST:PORT`;
    }
    hosts.push({ host: (match[1] as string).replace(/^\[(.*)\]$/, '$1'), port });
  }
  const params = new URLSearchParams(query ?? '');
  const unknown = [...params.keys()].find((name) => !['prefix', 'partitions', 'wait'].includes(name));
  if (unknown !== undefined) return `redis+${mode}:// takes ?prefix=, ?partitions= and ?wait=, not ?${unknown}=`;
  const options = storeOptions(params);
  if (typeof options === 'string') return options;
  const credentials = parseUserInfo(userInfo);
  if (credentials === undefined)
    return `redis+${mode}://USER:PASSWORD@…: the user or password is not percent-encoded right`;
  if (mode === 'cluster') {
    // A cluster has database 0 only.
    if (path !== undefined && path !== '/')
      return 'redis+cluster://HOST:PORT,…/ takes no path (a cluster has one database)';
    // Braces in the prefix would be the hash tag of every key: one slot, one master.
    if (/[{}]/.test(options.prefix)) return 'a cluster prefix cannot hold { or } (every key would be in one hash slot)';
    return { endpoint: { mode, nodes: hosts, ...credentials }, ...options };
  }
  const named = /^\/([A-Za-z0-9._-]+)(?:\/(\d{1,5}))?\/?$/.exec(path ?? '');
  if (named === null) return 'redis+sentinel://HOST:PORT,…/MASTERNAME[/DB] needs the name the Sentinels monitor';
  const endpoint = { mode, sentinels: hosts, masterName: named[1] as string, db: Number(named[2] ?? 0) } as const;
  return { endpoint: { ...endpoint, ...credentials }, ...options };
}

/** `?prefix=`, `?partitions=`, `?wait=`: present only when given, so a plain URL's target stays as it was. */
function storeOptions(params: URLSearchParams): Omit<RedisTarget, 'endpoint'> | string {
  const options: Omit<RedisTarget, 'endpoint'> = { prefix: params.get('prefix') ?? DEFAULT_REDIS_PREFIX };
  const partitions = params.get('partitions');
  if (partitions !== null) {
    const count = wholeNumber(partitions, 1, MAX_REDIS_PARTITIONS);
    if (count === undefined) return `?partitions= is a whole number from 1 to ${MAX_REDIS_PARTITIONS}`;
    options.partitions = count;
  }
  const wait = params.get('wait');
  if (wait !== null) {
    const replicas = wholeNumber(wait, 0, MAX_REDIS_WAIT);
    if (replicas === undefined) return `?wait= is a number of replicas from 0 to ${MAX_REDIS_WAIT}`;
    options.wait = replicas;
  }
  return options;
}

function wholeNumber(text: string, min: number, max: number): number | undefined {
  if (!/^\d{1,4}$/.test(text)) return undefined;
  const value = Number(text);
  return value >= min && value <= max ? value : undefined;
}

/** `USER:PASSWORD`, percent-decoded; undefined when a `%` escape is broken. */
function parseUserInfo(userInfo: string | undefined): { username?: string; password?: string } | undefined {
  if (userInfo === undefined || userInfo === '') return {};
  const colon = userInfo.indexOf(':');
  let username: string;
  let password: string | undefined;
  try {
    username = decodeURIComponent(colon === -1 ? userInfo : userInfo.slice(0, colon));
    password = colon === -1 ? undefined : decodeURIComponent(userInfo.slice(colon + 1));
  } catch {
    return undefined;
  }
  return {
    ...(username === '' ? {} : { username }),
    ...(password === undefined || password === '' ? {} : { password }),
  };
}

/** A URL fit for a log line: a password in it is replaced by `***`. */
function redactPassword(url: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url;
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    // A list of hosts is no WHATWG URL: whatever precedes the @ goes, the user with it.
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}
