// @ts-check
// A ladder: the idle, steady and burst measurements of one server, in order,
// on one process: idle first (before any post), then steady from the largest
// scale down (a smaller scale is the same process with streams closed), then
// the bursts. Every server the bench compares runs one; which scales each
// runs is listed in serverLadders.
import { settle } from '../processes.mjs';
import { measureBurst, measureIdle, measureSteady, scaleTo, warmUp, withServer } from './measures.mjs';

/**
 * @typedef {import('./results.mjs').Ladder} Ladder
 * @typedef {import('../servers.mjs').Server} Server
 * @typedef {import('./scenario.mjs').Bench} Bench
 * @typedef {import('./scenario.mjs').Scenario} Scenario
 *
 * @typedef {{ kind: 'idle' | 'steady' | 'burst', n: number }} Step
 */

/**
 * Idle at each of `idleAt`, then steady at each of `steadyAt`, then a burst at each of `burstAt`.
 * @param {number[]} idleAt
 * @param {number[]} steadyAt
 * @param {number[]} burstAt
 * @returns {Step[]}
 */
export const plan = (idleAt, steadyAt, burstAt) => [
  ...idleAt.map((n) => ({ kind: /** @type {const} */ ('idle'), n })),
  ...steadyAt.map((n) => ({ kind: /** @type {const} */ ('steady'), n })),
  ...burstAt.map((n) => ({ kind: /** @type {const} */ ('burst'), n })),
];

/**
 * Runs a plan's steps on one server process.
 * @param {Bench} bench
 * @param {() => Promise<Server>} start
 * @param {Step[]} steps
 * @param {boolean} wallcast
 * @returns {Promise<Ladder>}
 */
export function runLadder(bench, start, steps, wallcast) {
  const { loadgen, settings } = bench;
  return withServer(start, loadgen, async (server, agent) => {
    /** @type {Ladder} */
    const result = { name: server.name, wallcast, idle: {}, steady: {}, burst: {} };
    await settle(server.meter);
    const rssAtStart = server.meter.rss();
    let warm = false;
    for (const { kind, n } of steps) {
      const open = await scaleTo(server, loadgen, n);
      bench.log(`${server.name}: ${kind} at ${n} (${open} open)`);
      if (kind !== 'idle' && !warm) warm = await warmUp(server, agent, settings);
      if (kind === 'idle') result.idle[n] = await measureIdle(server, rssAtStart, open, n);
      else if (kind === 'steady') result.steady[n] = await measureSteady(server, loadgen, agent, settings);
      else result.burst[n] = await measureBurst(server, loadgen, agent, settings);
    }
    return result;
  });
}

/**
 * A ladder as a scenario: its figures go to `results.ladders[key]`; if the
 * server fails, the ladder says why and the run goes on.
 * @param {string} key
 * @param {(bench: Bench) => Promise<Server>} start
 * @param {(bench: Bench) => Step[]} steps
 * @param {{ wallcast: boolean }} kind
 * @returns {Scenario}
 */
export const ladderScenario = (key, start, steps, { wallcast }) => ({
  key,
  run: async (bench, results) => {
    results.ladders[key] = await runLadder(bench, () => start(bench), steps(bench), wallcast).catch(
      (/** @type {Error} */ error) => {
        console.error(`bench: ${key} failed: ${error.message}`);
        return { name: key, wallcast, idle: {}, steady: {}, burst: {}, error: String(error.message).split('\n')[0] };
      },
    );
  },
});

/**
 * Every server's ladder, in order. wallcast and nchan take every scale; the
 * raw broadcaster the two the kernel floor is read at; the other peers and
 * stores the peers' scale. --full's largest wall runs on fresh processes of
 * its own, so that the other scenarios are the same as in the default run and
 * its RSS per stream is read from a process that held no more.
 * @param {import('../settings.mjs').Settings} settings
 * @param {boolean} haveNchan
 * @returns {Scenario[]}
 */
export function serverLadders(settings, haveNchan) {
  const { idleScales, steadyScales, burstScales, peerScale, peerBurstScales, rawSteadyScales, fullScale } = settings;
  const wallPlan = () => plan(idleScales, steadyScales, burstScales);
  const storePlan = () => plan([peerScale], [peerScale], burstScales);
  const peerPlan = () => plan([peerScale], [peerScale], peerBurstScales);
  const largest = () => plan([fullScale], [fullScale], []);
  const wallcast = { wallcast: true };
  const peer = { wallcast: false };
  /** @type {Scenario[]} */
  const list = [ladderScenario('wallcast', (b) => b.servers.wallcast(), wallPlan, wallcast)];
  if (haveNchan) list.push(ladderScenario('nchan', (b) => b.servers.nchan(), wallPlan, peer));
  list.push(
    ladderScenario(
      'raw',
      (b) => b.servers.raw(),
      () => plan(idleScales, rawSteadyScales, peerBurstScales),
      peer,
    ),
    ladderScenario('better-sse', (b) => b.servers.betterSse(), peerPlan, peer),
    ladderScenario('hono', (b) => b.servers.hono(), peerPlan, peer),
    ladderScenario('sqlite', (b) => b.servers.wallcast({ store: 'sqlite' }), storePlan, wallcast),
    ladderScenario('redis', (b) => b.servers.wallcast({ store: 'redis' }), storePlan, wallcast),
  );
  if (settings.mode === 'full') {
    list.push(ladderScenario('wallcast-largest', (b) => b.servers.wallcast(), largest, wallcast));
    if (haveNchan) list.push(ladderScenario('nchan-largest', (b) => b.servers.nchan(), largest, peer));
  }
  return list;
}
