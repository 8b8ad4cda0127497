// @ts-check
// Posts/s with no subscribers: `throughputPosters` keep-alive posters back to
// back, against the raw broadcaster, nchan's publisher and wallcast on each
// store. Any 2xx is accepted: nchan answers 202 when no one is subscribed.
import { micros } from '../processes.mjs';
import { withServer } from './measures.mjs';

/**
 * @typedef {import('../servers.mjs').Server} Server
 */

/**
 * Posting back to back for `duration` ms.
 * @param {Server} server
 * @param {import('node:http').Agent} agent
 * @param {number} posters
 * @param {number} duration
 */
async function postFor(server, agent, posters, duration) {
  const end = Date.now() + duration;
  let accepted = 0;
  let refused = 0;
  await Promise.all(
    Array.from({ length: posters }, async () => {
      while (Date.now() < end) {
        const { status } = await server.post(agent, `0:${micros()}`);
        if (status >= 200 && status < 300) accepted++;
        else refused++;
      }
    }),
  );
  return { accepted, refused };
}

/** @type {import('./scenario.mjs').Scenario} */
export const postThroughput = {
  key: 'throughput',
  run: async (bench, results) => {
    const { servers, settings } = bench;
    bench.log('post throughput');
    /** @type {[string, () => Promise<Server>][]} by the keys the report names them by */
    const posters = [
      ['raw', servers.raw],
      ...(bench.haveNchan ? [/** @type {[string, () => Promise<Server>]} */ (['nchan', () => servers.nchan()])] : []),
      ['memory', () => servers.wallcast({ store: 'memory' })],
      ['sqlite', () => servers.wallcast({ store: 'sqlite' })],
      ['redis', () => servers.wallcast({ store: 'redis' })],
    ];
    for (const [key, start] of posters) {
      results.throughput[key] = await withServer(start, undefined, async (server, agent) => {
        await postFor(server, agent, settings.throughputPosters, settings.throughputWarmupMs);
        const started = micros();
        const { accepted, refused } = await postFor(
          server,
          agent,
          settings.throughputPosters,
          settings.throughputSeconds * 1000,
        );
        return { postsPerSecond: accepted / ((micros() - started) / 1e6), refused };
      }).catch((/** @type {Error} */ error) => ({ error: String(error.message).split('\n')[0] ?? 'failed' }));
    }
  },
};
