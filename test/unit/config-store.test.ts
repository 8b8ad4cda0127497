/**
 * WALLCAST_STORE's Redis URLs for a cluster and for Sentinels (issue 19),
 * and the options every Redis URL takes: parsed once, in config-store.ts.
 * (memory, sqlite: and plain redis:// are in config.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/config-values.js';

const store = (value: string) => loadConfig({ WALLCAST_STORE: value }).store;
const refused = (value: string, why: string, shown = value) =>
  expect(() => store(value)).toThrow(new ConfigError(`WALLCAST_STORE=${JSON.stringify(shown)} is not ${why}`));

describe('WALLCAST_STORE for a cluster or Sentinels', () => {
  it('reads a cluster by any of its nodes, with the prefix, partitions and wait taken out', () => {
    expect(store('redis+cluster://10.0.0.1:7000,10.0.0.2:7001,redis-3/?prefix=team%3A&partitions=32&wait=1')).toEqual({
      kind: 'redis',
      endpoint: {
        mode: 'cluster',
        nodes: [
          { host: '10.0.0.1', port: 7000 },
          { host: '10.0.0.2', port: 7001 },
          { host: 'redis-3', port: 6379 },
        ],
      },
      prefix: 'team:',
      partitions: 32,
      wait: 1,
      label: 'redis+cluster://10.0.0.1:7000,10.0.0.2:7001,redis-3/?prefix=team%3A&partitions=32&wait=1',
    });
    expect(store('redis+cluster://app:s%40cret@[::1]:7000')).toMatchObject({
      endpoint: { mode: 'cluster', nodes: [{ host: '::1', port: 7000 }], username: 'app', password: 's@cret' },
      prefix: 'wallcast:',
      label: 'redis+cluster://app:***@[::1]:7000',
    });
  });

  it('reads the Sentinels, the name they watch the primary under, and a database', () => {
    expect(store('redis+sentinel://:pw@s1:26379,s2:26380,s3/mymaster/2?wait=2')).toEqual({
      kind: 'redis',
      endpoint: {
        mode: 'sentinel',
        sentinels: [
          { host: 's1', port: 26379 },
          { host: 's2', port: 26380 },
          { host: 's3', port: 26379 },
        ],
        masterName: 'mymaster',
        db: 2,
        password: 'pw',
      },
      prefix: 'wallcast:',
      wait: 2,
      label: 'redis+sentinel://***@s1:26379,s2:26380,s3/mymaster/2?wait=2',
    });
    expect(store('redis+sentinel://s1/mymaster')).toMatchObject({ endpoint: { db: 0, masterName: 'mymaster' } });
  });

  it('takes ?partitions and ?wait on a single Redis too, and leaves them out of the URL ioredis reads', () => {
    expect(store('redis://127.0.0.1:6379/15?wait=1&partitions=4&prefix=x')).toEqual({
      kind: 'redis',
      endpoint: { mode: 'standalone', url: 'redis://127.0.0.1:6379/15' },
      prefix: 'x',
      partitions: 4,
      wait: 1,
      label: 'redis://127.0.0.1:6379/15?wait=1&partitions=4&prefix=x',
    });
  });

  it('says in one line what is wrong with a cluster or Sentinel URL', () => {
    refused('redis+cluster://a:1,b:x/', 'redis+cluster://HOST:PORT,HOST:PORT…: "b:x" is not a HOST:PORT');
    refused('redis+cluster://a:99999/', 'redis+cluster://HOST:PORT,HOST:PORT…: "a:99999" is not a HOST:PORT');
    refused('redis+cluster://a:1/0', 'redis+cluster://HOST:PORT,…/ takes no path (a cluster has one database)');
    refused('redis+cluster://a:1/?db=2', 'redis+cluster:// takes ?prefix=, ?partitions= and ?wait=, not ?db=');
    refused(
      'redis+cluster://a:1/?prefix=%7Bwc%7D:',
      'a cluster prefix cannot hold { or } (every key would be in one hash slot)',
    );
    refused(
      'redis+sentinel://s1:26379/',
      'redis+sentinel://HOST:PORT,…/MASTERNAME[/DB] needs the name the Sentinels monitor',
    );
    refused('redis+sentinel://s1/m?partitions=0', '?partitions= is a whole number from 1 to 256');
    refused('redis://h/0?wait=x', '?wait= is a number of replicas from 0 to 16');
    refused('rediss+cluster://a:1/', 'TLS to a cluster or Sentinels is not supported yet');
    refused(
      'redis+cluster://%zz:pw@a:1/',
      'redis+cluster://USER:PASSWORD@…: the user or password is not percent-encoded right',
      'redis+cluster://%zz:***@a:1/',
    );
  });
});
