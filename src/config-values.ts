/**
 * A setting, and the kinds of value one takes (config.ts lists the
 * settings): each kind turns the text of one variable or flag into its
 * value, or throws a ConfigError whose message is the one line `main.ts`
 * prints, naming the variable.
 */
import { readFileSync } from 'node:fs';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The text of a setting that was given → its value. */
export type Parse<T> = (raw: string, variable: string) => T;

export interface Setting<T> {
  variable: string;
  /** The default as the table shows it. */
  shown: string;
  meaning: string;
  /** A secret: refused when empty (it would silently leave open what it was meant to close), never logged. */
  secret: boolean;
  /** The value, from the setting's text; `raw` is undefined when it is not given. */
  read(raw: string | undefined): T;
  /** The value as the start-up log shows it. */
  summary(value: T): unknown;
}

interface SettingOptions<T> {
  secret?: true;
  /** The value as the start-up log shows it (default: as it is, `unset` when it is not). */
  summary?: (value: T) => unknown;
  /** What the table shows for a setting that is unset by default (default: `unset`). */
  unset?: string;
}

/**
 * A setting whose default is written once, as the text a person would
 * give: the table shows it and the parser reads it, like any given value.
 */
export function setting<T>(
  variable: string,
  fallback: string,
  meaning: string,
  parse: Parse<T>,
  options?: SettingOptions<T>,
): Setting<T>;
/** A setting that is unset by default. */
export function setting<T>(
  variable: string,
  fallback: undefined,
  meaning: string,
  parse: Parse<T>,
  options?: SettingOptions<T | undefined>,
): Setting<T | undefined>;
export function setting<T>(
  variable: string,
  fallback: string | undefined,
  meaning: string,
  parse: Parse<T>,
  options: SettingOptions<T | undefined> = {},
): Setting<T | undefined> {
  return {
    variable,
    shown: fallback ?? options.unset ?? 'unset',
    meaning,
    secret: options.secret === true,
    read(raw) {
      const given = raw ?? fallback;
      return given === undefined ? undefined : parse(given, variable);
    },
    summary: options.summary ?? ((value) => (options.secret && value !== undefined ? '***' : (value ?? 'unset'))),
  };
}

export function fail(variable: string, raw: string, expected: string): never {
  throw new ConfigError(`${variable}=${JSON.stringify(raw)} is not ${expected}`);
}

/** A whole number from `min` to `max`. */
export const integer =
  (min: number, max: number): Parse<number> =>
  (raw, variable) => {
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      fail(variable, raw, `a whole number from ${min} to ${max}`);
    }
    return Number(raw);
  };

export const text: Parse<string> = (raw) => raw;

export const oneOf =
  <T extends string>(values: readonly T[]): Parse<T> =>
  (raw, variable) => {
    if (!values.includes(raw as T)) fail(variable, raw, `one of ${values.join(', ')}`);
    return raw as T;
  };

/** A secret: at least 8 printable ASCII characters. (That an empty one is refused is config.ts's.) */
export const token: Parse<string> = (raw, variable) => {
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

export interface RateLimit {
  posts: number;
  perMs: number;
}

/** `20/min`, `5/s`, `100/h`; `off`. */
export const rateLimit: Parse<RateLimit | undefined> = (raw, variable) => {
  if (raw === 'off') return undefined;
  const match = /^(\d+)\/(s|sec|m|min|h|hour)$/.exec(raw);
  const posts = Number(match?.[1]);
  const perMs = UNITS_MS[match?.[2] ?? ''];
  if (match === null || perMs === undefined || posts < 1) {
    return fail(variable, raw, 'a rate: use POSTS/UNIT with UNIT s, min or h (e.g. 20/min)');
  }
  return { posts, perMs };
};

/** `30d`, `12h`, `90m`, `3600s`; `off`. */
export const duration: Parse<number | undefined> = (raw, variable) => {
  if (raw === 'off') return undefined;
  const match = /^(\d{1,6})(s|m|h|d)$/.exec(raw);
  const unitMs = UNITS_MS[match?.[2] ?? ''];
  if (match === null || unitMs === undefined || Number(match[1]) < 1) {
    return fail(variable, raw, 'a duration: a whole number and s, m, h or d (e.g. 30d)');
  }
  return Number(match[1]) * unitMs;
};

/**
 * Proxies whose `X-Forwarded-For` is believed: addresses or IPv4/IPv6
 * CIDR blocks, comma-separated, or `loopback`; `off`.
 */
export const trustedProxies: Parse<string[]> = (raw, variable) => {
  if (raw === 'off') return [];
  const entries = raw.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    if (!(entry === 'loopback' || /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(entry))) {
      fail(variable, raw, 'a list of proxy addresses or CIDR blocks (e.g. 10.0.0.0/8,loopback)');
    }
  }
  return entries;
};

/** Origins allowed to use the API from their pages: `*`, or `https://a.example,http://localhost:3000`; `off`. */
export const origins: Parse<string[]> = (raw, variable) => {
  if (raw === 'off') return [];
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
export const pemFile: Parse<Buffer> = (raw, variable) => {
  try {
    const pem = readFileSync(raw);
    if (!pem.includes('-----BEGIN ')) throw new Error('not a PEM file');
    return pem;
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError(`${variable}=${JSON.stringify(raw)} cannot be read as a PEM file (${reason})`);
  }
};
