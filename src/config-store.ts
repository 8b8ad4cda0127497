/**
 * `WALLCAST_STORE` → the typed store it names, parsed here once for
 * config.ts: no other module reads the setting as text (create-store.ts,
 * the post budget and the Redis store take the parsed value).
 */
import { fail, type Parse } from './config-values.js';

/**
 * How to reach Redis. Issue 19 adds `redis+cluster://h1,h2/?prefix=` and
 * `redis+sentinel://h1,h2/mastername`: each is a variant here, a case of
 * `redisTarget` below, and one of `connectRedis` (store/redis/connect.ts).
 */
export type RedisEndpoint = {
  mode: 'standalone';
  /** What ioredis takes: `redis://` or `rediss://` (TLS), with the user, password and `/DB` as given. */
  url: string;
};

/** A Redis and the part of its key space that is this deployment's: the store's keys, the post budget's. */
export interface RedisTarget {
  endpoint: RedisEndpoint;
  /** Put before every key (`?prefix=`, default `wallcast:`): several deployments may share one Redis. */
  prefix: string;
}

/** `WALLCAST_STORE`, parsed: the store to open. */
export type StoreConfig = {
  /** The setting as it was given, a password in it as `***`: for the start-up log and error lines. */
  label: string;
} & ({ kind: 'memory' } | { kind: 'sqlite'; path: string } | ({ kind: 'redis' } & RedisTarget));

export const DEFAULT_REDIS_PREFIX = 'wallcast:';

/** `memory`, `sqlite:PATH`, or a Redis URL (see `redisTarget`). */
export const store: Parse<StoreConfig> = (raw, variable) => {
  const label = redactPassword(raw);
  if (raw === 'memory') return { kind: 'memory', label };
  if (/^sqlite:./.test(raw)) return { kind: 'sqlite', path: raw.slice('sqlite:'.length), label };
  const redis = redisTarget(raw);
  if (redis !== undefined) return { kind: 'redis', ...redis, label };
  return fail(variable, label, 'a store: use memory, sqlite:PATH or redis://HOST:PORT/DB');
};

/** `redis://` or `rediss://` `[USER:PASSWORD@]HOST[:PORT][/DB][?prefix=PREFIX]`; the prefix is taken out of the URL. */
function redisTarget(raw: string): RedisTarget | undefined {
  if (!/^rediss?:\/\/./.test(raw)) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if (!/^(\/\d*)?$/.test(url.pathname)) return undefined;
  const prefix = url.searchParams.get('prefix') ?? DEFAULT_REDIS_PREFIX;
  url.searchParams.delete('prefix');
  return { endpoint: { mode: 'standalone', url: url.toString() }, prefix };
}

/** A URL fit for a log line: a password in it is replaced by `***`. */
function redactPassword(url: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url;
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}
