import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('configuration', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      store: 'sqlite:data/wallcast.db',
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
});
