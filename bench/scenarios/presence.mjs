// @ts-check
// Issue 17: presence under churn. `presenceScale` streams on one wall, steady
// posts, and beside them `churnRate` streams a second that connect and
// disconnect; run twice, each on a fresh wallcast process with the same
// settings: once with every stream asking `presence=count`, once with none
// asking. Every stream joins the wall's count either way (GET …/presence
// answers it), so the difference between the two is what asking costs: the
// presence events. Both are stored as ladders (they appear in the Steady
// table); the ratio of their CPU per delivery is the target.
//
// Every stream, the churning ones too, names a client id of its own, as the
// page does for every browser: each is a person of its own, and a churned
// person goes through the grace period the contract gives people with a
// client id (a stream without one leaves at once and is never graced). So
// the churn runs the tracker's whole path: a person joins, leaves into grace,
// and is counted out when the grace ends.
//
// With presence, the load generator keeps each stream's last count. Once the
// churn stops, the count the streams hear should come to the streams still
// open: the time that takes is measured from the last churning stream's
// close, and is one grace period (the contract keeps a person counted that
// long) plus at most one emission window (1 s) and a pass over the streams.
import { targetOf } from '../loadgen-client.mjs';
import { micros, sleep } from '../processes.mjs';
import { measureSteady, warmUp, withServer } from './measures.mjs';
import { PRESENCE_LADDERS } from './results.mjs';

/**
 * @typedef {import('./scenario.mjs').Bench} Bench
 * @typedef {import('./results.mjs').Ladder} Ladder
 * @typedef {import('./results.mjs').Agreement} Agreement
 * @typedef {import('./results.mjs').PresenceRun} PresenceRun
 */

/** @type {import('./scenario.mjs').Scenario} */
export const presenceChurn = {
  key: 'presence',
  run: async (bench, results) => {
    const { presenceScale, churnRate, churnLifetimeMs, presenceGraceMs } = bench.settings;
    /** @type {import('./results.mjs').Presence} */
    const presence = { streams: presenceScale, churnRate, churnLifetimeMs, graceMs: presenceGraceMs, runs: {} };
    results.presence = presence;
    for (const asks of [false, true]) {
      const key = asks ? PRESENCE_LADDERS.on : PRESENCE_LADDERS.off;
      const { ladder, run } = await churnRun(bench, asks).catch((/** @type {Error} */ error) => {
        console.error(`bench: ${key} failed: ${error.message}`);
        const reason = String(error.message).split('\n')[0];
        return {
          ladder: /** @type {Ladder} */ ({ name: key, wallcast: true, idle: {}, steady: {}, burst: {}, error: reason }),
          run: undefined,
        };
      });
      results.ladders[key] = ladder;
      if (run) presence.runs[key] = run;
    }
  },
};

/**
 * One of the two runs, on a fresh process.
 * @param {Bench} bench
 * @param {boolean} asks the streams ask for presence=count
 * @returns {Promise<{ ladder: Ladder, run: PresenceRun }>}
 */
function churnRun(bench, asks) {
  const { loadgen, settings } = bench;
  const { presenceScale: n, churnRate, churnLifetimeMs, churnLeadMs, presenceGraceMs } = settings;
  const start = () =>
    bench.servers.wallcast({
      env: { WALLCAST_PRESENCE_GRACE_MS: String(presenceGraceMs) },
      query: asks ? { presence: 'count' } : {},
      label: `churn ${churnRate}/s, ${asks ? 'presence=count' : 'no presence'}`,
    });
  return withServer(start, loadgen, async (server, agent) => {
    /** @type {Ladder} */
    const ladder = { name: server.name, wallcast: true, idle: {}, steady: {}, burst: {} };
    const target = { ...targetOf(server), clientIds: 'bench-stream-', presence: asks };
    const { open } = await loadgen.call('connect', { target, count: n });
    bench.log(`${server.name}: steady at ${n} (${open} open) beside a churn of ${churnRate}/s`);
    /** @type {PresenceRun} */
    const run = { churn: { opened: 0, failed: 0, seconds: 0 } };
    if (asks) {
      // A fresh process reports no presence for one grace period: every stream has heard the count of
      // them all (the grace is over) before anything is measured.
      run.initial = await agreement(bench, micros(), 0);
      bench.log(`${server.name}: ${describe(run.initial)} after the connects`);
    }
    await warmUp(server, agent, settings);
    /** @type {Promise<{ opened: number, failed: number, seconds: number, stoppedMicros: number }> | undefined} */
    let churning;
    const beside = async () => {
      churning = loadgen.call('churn', {
        target: { ...target, clientIds: 'bench-churn-' },
        rate: churnRate,
        lifetimeMs: churnLifetimeMs,
        // Until the posts end: the measured window is churned throughout.
        seconds: (churnLeadMs + settings.steadySeconds * 1000) / 1000,
      });
      await sleep(churnLeadMs);
    };
    ladder.steady[n] = await measureSteady(server, loadgen, agent, settings, { beside });
    const { stoppedMicros, ...churn } = await /** @type {NonNullable<typeof churning>} */ (churning);
    run.churn = churn;
    if (asks) {
      run.after = await agreement(bench, stoppedMicros, settings.agreementHoldMs);
      bench.log(`${server.name}: ${describe(run.after)} after the churn stopped`);
    }
    return { ladder, run };
  });
}

/**
 * Waits until every open stream's last presence count is the number of streams open.
 * @param {Bench} bench
 * @param {number} sinceMicros the time it is measured from
 * @param {number} holdMs how long the counts must then stay right
 * @returns {Promise<Agreement>}
 */
async function agreement(bench, sinceMicros, holdMs) {
  const { agreementTimeoutMs } = bench.settings;
  const a = await bench.loadgen.call('agreement', { sinceMicros, timeoutMs: agreementTimeoutMs, holdMs });
  return {
    open: a.open,
    agreed: a.agreed,
    stable: a.stable,
    seconds: a.agreed ? (a.agreedMicros - sinceMicros) / 1e6 : Number.NaN,
    heard: a.heard,
  };
}

/** @param {Agreement} a */
const describe = (a) =>
  a.agreed
    ? `every stream heard ${a.open} within ${a.seconds.toFixed(2)} s${a.stable ? '' : ', then it changed'}`
    : `the streams did not agree on ${a.open} (heard, streams: ${a.heard.map(([c, k]) => `${c}: ${k}`).join(', ')})`;
