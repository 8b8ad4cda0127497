// @ts-check
// Issue 20: wallcast with WALLCAST_WORKERS=2 (a primary owning the store, two
// workers serving the streams; CPU over all three) and nginx + nchan with
// worker_processes 2, each a ladder of its own: steady at the scale the
// issue names and a burst, with no idle step (the idle tables are about one
// process). The report sets them against the one-process `wallcast` and
// `nchan` ladders of the same run, at the same scales.
import { ladderScenario, plan } from './ladders.mjs';
import { WORKER_LADDERS } from './results.mjs';

/**
 * @typedef {import('./scenario.mjs').Scenario} Scenario
 */

/** Issue 20 compares two workers with one process: on this 2-core machine, one per core. */
const WORKERS = 2;

/**
 * @param {import('../settings.mjs').Settings} settings
 * @param {boolean} haveNchan
 * @returns {Scenario[]}
 */
export function workerLadders(settings, haveNchan) {
  const steps = () => plan([], settings.workerSteadyScales, settings.workerBurstScales);
  /** @type {Scenario[]} */
  const list = [
    ladderScenario(
      WORKER_LADDERS.wallcast,
      (b) => b.servers.wallcast({ env: { WALLCAST_WORKERS: String(WORKERS) }, label: `${WORKERS} workers` }),
      steps,
      { wallcast: true },
    ),
  ];
  if (haveNchan) {
    list.push(
      ladderScenario(
        WORKER_LADDERS.nchan,
        (b) => b.servers.nchan({ workers: WORKERS, label: `${WORKERS} workers` }),
        steps,
        { wallcast: false },
      ),
    );
  }
  return list;
}
