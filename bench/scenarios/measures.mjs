// @ts-check
// The measurements a scenario is made of, each over one running server:
// bring it to n streams, idle memory, steady posts, a burst. Each waits for
// the server to go quiet first, so that its CPU is its own.
import http from 'node:http';
import { targetOf } from '../loadgen-client.mjs';
import { cpuMicros, machineBusyMicros, micros, settle, sleep, totalMicros } from '../processes.mjs';

/**
 * @typedef {import('../loadgen-client.mjs').Loadgen} Loadgen
 * @typedef {import('../loadgen-client.mjs').Stats} Stats
 * @typedef {import('../servers.mjs').Server} Server
 * @typedef {import('../settings.mjs').Settings} Settings
 * @typedef {import('./results.mjs').Idle} Idle
 * @typedef {import('./results.mjs').Steady} Steady
 * @typedef {import('./results.mjs').Burst} Burst
 */

/**
 * Starts a server, gives the body a keep-alive agent for its posts, and
 * afterwards always closes the subscribers (when `loadgen` is given), the
 * agent and the server, in that order.
 * @template T
 * @param {() => Promise<Server>} start
 * @param {Loadgen | undefined} loadgen
 * @param {(server: Server, agent: http.Agent) => Promise<T>} body
 * @returns {Promise<T>}
 */
export async function withServer(start, loadgen, body) {
  const server = await start();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  try {
    return await body(server, agent);
  } finally {
    await loadgen?.call('close');
    agent.destroy();
    await server.stop();
  }
}

/**
 * Brings the server to `n` open streams: closes the extra ones (and any the
 * last scenario dropped, which it already counted) or opens new ones.
 * @param {Server} server
 * @param {Loadgen} loadgen
 * @param {number} n
 */
export async function scaleTo(server, loadgen, n) {
  let { open } = await loadgen.call('close', { keep: n });
  if (open < n) ({ open } = await loadgen.call('connect', { target: targetOf(server), count: n - open }));
  return /** @type {number} */ (open);
}

/**
 * Posts that no pattern counts (seq -1), so that the fan-out loop is
 * optimised before it is timed, for every server alike.
 * @param {Server} server
 * @param {http.Agent} agent
 * @param {Settings} settings
 */
export async function warmUp(server, agent, settings) {
  for (let i = 0; i < settings.warmupPosts; i++) await server.post(agent, `-1:${micros()}`);
  return true;
}

/**
 * RSS growth over `n` idle streams, from the process as it started.
 * @param {Server} server
 * @param {number} rssAtStart
 * @param {number} open
 * @param {number} n
 * @returns {Promise<Idle>}
 */
export async function measureIdle(server, rssAtStart, open, n) {
  await settle(server.meter);
  const rss = server.meter.rss();
  return { open, bytesPerStream: (rss - rssAtStart) / n, rss };
}

/**
 * `steadyRate` posts/s for `steadySeconds`, each post on its own tick: one
 * write per stream per event.
 * @param {Server} server
 * @param {Loadgen} loadgen
 * @param {http.Agent} agent
 * @param {Settings} settings
 * @param {object} [options]
 * @param {() => Promise<void>} [options.beside] runs once the server is quiet, just before the measured
 *   window opens, and resolves when the posts may start: something the posts run beside (a churn of streams)
 * @returns {Promise<Steady>}
 */
export async function measureSteady(server, loadgen, agent, settings, { beside } = {}) {
  await settle(server.meter);
  await loadgen.call('reset');
  await beside?.();
  // Read outside the CPU window: a scrape costs the server (with workers, every one of them).
  const countersBefore = await server.counters?.();
  const before = server.meter.cpu();
  // The subscribers share the machine's cores with the server: their CPU is shown beside latency.
  const clientBefore = cpuMicros(loadgen.pid);
  // And everyone else's: on a shared machine, what the server and the subscribers could not have.
  const machineBefore = machineBusyMicros();
  const posts = settings.steadyRate * settings.steadySeconds;
  const started = micros();
  for (let i = 0; i < posts; i++) {
    const due = started + (i * 1e6) / settings.steadyRate;
    const wait = due - micros();
    if (wait > 0) await sleep(wait / 1000);
    await server.post(agent, `${i}:${micros()}`);
  }
  await loadgen.call('drain', { expected: posts, timeoutMs: settings.steadyDrainMs });
  const after = server.meter.cpu();
  const elapsed = micros() - started;
  const clientCores = (cpuMicros(loadgen.pid) - clientBefore) / elapsed;
  const serverCores = (after.user + after.sys - before.user - before.sys) / elapsed;
  const otherCores = (machineBusyMicros() - machineBefore) / elapsed - serverCores - clientCores;
  const countersAfter = await server.counters?.();
  /** @type {Stats} */
  const stats = await loadgen.call('stats', { expected: posts });
  const per = (/** @type {number} */ us) => us / Math.max(1, stats.delivered);
  return {
    ...stats,
    posts,
    cpuPerDelivery: per(after.user + after.sys - before.user - before.sys),
    userPerDelivery: per(after.user - before.user),
    sysPerDelivery: per(after.sys - before.sys),
    serverCores,
    otherCores,
    writesPerDelivery: writesPer(countersBefore, countersAfter, stats.delivered),
    passMs:
      countersBefore === undefined || countersAfter === undefined
        ? undefined
        : ((countersAfter.passSeconds - countersBefore.passSeconds) * 1000) /
          Math.max(1, countersAfter.passes - countersBefore.passes),
    clientCores,
  };
}

/**
 * `burstPosts` posts from `burstPosters` concurrent posters, as fast as they
 * are accepted.
 * @param {Server} server
 * @param {Loadgen} loadgen
 * @param {http.Agent} agent
 * @param {Settings} settings
 * @returns {Promise<Burst>}
 */
export async function measureBurst(server, loadgen, agent, settings) {
  const { burstPosts, burstPosters } = settings;
  await settle(server.meter);
  await loadgen.call('reset');
  const countersBefore = await server.counters?.();
  const cpuBefore = totalMicros(server.meter);
  const started = micros();
  let seq = 0;
  const posters = Array.from({ length: burstPosters }, async () => {
    while (seq < burstPosts) {
      const i = seq++;
      await server.post(agent, `${i}:${micros()}`);
    }
  });
  await Promise.all(posters);
  const { lastReceiveMicros } = await loadgen.call('drain', {
    expected: burstPosts,
    timeoutMs: settings.burstDrainMs,
  });
  const cpu = totalMicros(server.meter) - cpuBefore;
  const countersAfter = await server.counters?.();
  /** @type {Stats} */
  const stats = await loadgen.call('stats', { expected: burstPosts });
  const seconds = (lastReceiveMicros - started) / 1e6;
  return {
    ...stats,
    writesPerDelivery: writesPer(countersBefore, countersAfter, stats.delivered),
    seconds,
    deliveriesPerSecond: stats.delivered / seconds,
    cpuPerDelivery: cpu / Math.max(1, stats.delivered),
  };
}

/**
 * wallcast's socket writes of live events per event delivered, between two scrapes.
 * @param {import('../servers.mjs').Counters | undefined} before
 * @param {import('../servers.mjs').Counters | undefined} after
 * @param {number} delivered
 */
function writesPer(before, after, delivered) {
  return before === undefined || after === undefined
    ? undefined
    : (after.writes - before.writes) / Math.max(1, delivered);
}
