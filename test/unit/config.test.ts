import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig, settingsSummary, settingsTable, unknownVariables } from '../../src/config.js';
import { ConfigError } from '../../src/config-values.js';

describe('configuration', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      store: { kind: 'sqlite', path: 'data/wallcast.db', label: 'sqlite:data/wallcast.db' },
      historySize: 1000,
      backlog: 50,
      heartbeatMs: 15000,
      maxBodyChars: 2000,
      slowClientBytes: 1048576,
      longPollMs: 25000,
      rateLimit: undefined,
      maxSubscribers: undefined,
    });
  });

  it('takes flags over the environment, as --name value and --name=value', () => {
    const config = loadConfig({ PORT: '1', WALLCAST_HISTORY: '10' }, [
      '--port',
      '2',
      '--history=20',
      '--rate-limit=5/s',
    ]);
    expect(config.port).toBe(2);
    expect(config.historySize).toBe(20);
    expect(config.rateLimit).toEqual({ posts: 5, perMs: 1000 });
  });

  it('names the variable in one line when a value is bad', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ PORT: 'abc' }, /^PORT="abc" is not a whole number/],
      [{ WALLCAST_HISTORY: '0' }, /^WALLCAST_HISTORY=/],
      [{ WALLCAST_STORE: 'mysql://x' }, /^WALLCAST_STORE=/],
      [{ WALLCAST_RATE_LIMIT: 'lots' }, /^WALLCAST_RATE_LIMIT=/],
      [{ WALLCAST_BACKLOG: '50', WALLCAST_HISTORY: '10' }, /^WALLCAST_BACKLOG=50 is more than WALLCAST_HISTORY=10/],
    ];
    for (const [env, message] of cases) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(message);
    }
    expect(() => loadConfig({}, ['--nope', '1'])).toThrow(/^unknown option --nope \(see --help\)$/);
  });

  it('parses WALLCAST_STORE once, into the store it names', () => {
    const store = (value: string) => loadConfig({ WALLCAST_STORE: value }).store;
    expect(store('memory')).toEqual({ kind: 'memory', label: 'memory' });
    expect(store('sqlite:/var/lib/wallcast/wall.db')).toEqual({
      kind: 'sqlite',
      path: '/var/lib/wallcast/wall.db',
      label: 'sqlite:/var/lib/wallcast/wall.db',
    });
    expect(store('redis://127.0.0.1:6379/15')).toEqual({
      kind: 'redis',
      endpoint: { mode: 'standalone', url: 'redis://127.0.0.1:6379/15' },
      prefix: 'wallcast:',
      label: 'redis://127.0.0.1:6379/15',
    });
    // The prefix leaves the URL; TLS, the user, the password, the DB and other options stay for ioredis.
    expect(store('rediss://app:s3cret@redis.example:6380/2?prefix=team%3A&family=6')).toEqual({
      kind: 'redis',
      endpoint: { mode: 'standalone', url: 'rediss://app:s3cret@redis.example:6380/2?family=6' },
      prefix: 'team:',
      label: 'rediss://app:***@redis.example:6380/2?prefix=team%3A&family=6',
    });
    expect(store('redis://cache?prefix=')).toMatchObject({ prefix: '' });
  });

  it('names WALLCAST_STORE in one line for a store it cannot name, hiding a password', () => {
    for (const bad of ['mysql://x', 'sqlite:', 'redis://', 'redis://host/db0', 'redis:host', 'Memory']) {
      expect(() => loadConfig({ WALLCAST_STORE: bad })).toThrow(
        new ConfigError(
          `WALLCAST_STORE=${JSON.stringify(bad)} is not a store: use memory, sqlite:PATH or redis://HOST:PORT/DB`,
        ),
      );
    }
    expect(() => loadConfig({ WALLCAST_STORE: 'redis://:pw@host/x' })).toThrow(
      /^WALLCAST_STORE="redis:\/\/:\*\*\*@host\/x" is not/,
    );
  });

  it('shows every setting at start-up, secrets and passwords as ***', () => {
    const summary = settingsSummary(
      loadConfig({
        WALLCAST_STORE: 'redis://:hunter2hunter2@127.0.0.1:6379/0',
        WALLCAST_ADMIN_TOKEN: 'an-admin-token',
        WALLCAST_RATE_LIMIT: '20/min',
      }),
    );
    expect(summary).toMatchObject({
      store: 'redis://:***@127.0.0.1:6379/0',
      adminToken: '***',
      publishToken: 'unset',
      rateLimit: '20/60s',
      tlsCert: 'unset',
      maxSubscribers: 'unset',
      backlog: 50,
      port: 8080,
    });
    expect(JSON.stringify(summary)).not.toContain('hunter2');
    expect(JSON.stringify(summary)).not.toContain('an-admin-token');
    expect(Object.keys(summary)).toHaveLength(Object.keys(loadConfig({})).length - 1);
  });

  it('refuses empty secrets, and names WALLCAST_* variables that are no setting', () => {
    expect(() => loadConfig({ WALLCAST_PUBLISH_TOKEN: '' })).toThrow(/^WALLCAST_PUBLISH_TOKEN is set but empty/);
    expect(loadConfig({ WALLCAST_HISTORY: '' }).historySize).toBe(1000);
    expect(unknownVariables({ WALLCAST_HISTOR: '10', WALLCAST_HISTORY: '10', HOME: '/' })).toEqual(['WALLCAST_HISTOR']);
  });

  it('fits the longest valid post in any encoding in the request limit', () => {
    // 2000 emoji as JSON escapes: 12 bytes each, and the same for a 64-character author.
    expect(loadConfig({}).maxRequestBytes).toBeGreaterThanOrEqual((2000 + 64) * 12 + 1024);
  });

  it('takes CORS origins as a list of origins, or *', () => {
    expect(loadConfig({ WALLCAST_CORS_ORIGINS: 'https://a.example, http://localhost:3000' }).corsOrigins).toEqual([
      'https://a.example',
      'http://localhost:3000',
    ]);
    expect(loadConfig({ WALLCAST_CORS_ORIGINS: '*' }).corsOrigins).toEqual(['*']);
    for (const bad of ['a.example', 'https://a.example/path', 'ftp://a.example']) {
      expect(() => loadConfig({ WALLCAST_CORS_ORIGINS: bad })).toThrow(/^WALLCAST_CORS_ORIGINS=/);
    }
  });

  it('keeps heartbeats and long polls shorter than the send timeout', () => {
    expect(() => loadConfig({ WALLCAST_SEND_TIMEOUT_MS: '10000' })).toThrow(/^WALLCAST_HEARTBEAT_MS=15000 is too long/);
  });

  it('lists every setting in the README, as generated from the one settings table', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const generated = /<!-- settings:[^\n]*-->\n([\s\S]*?)\n<!-- \/settings -->/.exec(readme)?.[1];
    // `npm run docs` writes it.
    expect(generated, 'README.md settings table is stale: run npm run docs').toBe(settingsTable());
  });
});
