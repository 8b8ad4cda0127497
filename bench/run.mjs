// @ts-check
// wallcast benchmark: the same scenarios against wallcast (memory, SQLite and
// Redis stores) and, in the same run, its peers: a raw node:http broadcaster,
// better-sse, Hono's streamSSE and, when installed, nginx + nchan. Loopback
// only, bounded in count and time, stops by itself.
//
//   npm run bench                      # the default run (< 5 min), writes BENCHMARKS.md
//   node bench/run.mjs --full          # + the largest wall (19,000 streams) and the Node peers' bursts at 2,000
//   node bench/run.mjs --quick         # a smoke run at small scales, writes nothing
//   node bench/run.mjs --only wallcast,nchan   # just those scenarios, writes nothing; keys: wallcast nchan
//       raw better-sse hono sqlite redis wallcast-largest nchan-largest (with --full) workers nchan-workers
//       presence replay heap throughput
//   BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' node bench/run.mjs --only wallcast   # a CPU profile of each wallcast process
//
// This file wires one run: settings → servers and load generator → every
// scenario in order → the report. The parts, each in its own module:
//   settings.mjs          the mode's scales, rates and durations
//   processes.mjs         spawning, stopping, and CPU and RSS from /proc (a process, a tree, a master's workers)
//   servers.mjs           the servers under test behind one interface
//   loadgen-client.mjs    the subscribers' process (bench/loadgen.mjs), driven over IPC
//   scenarios/            what is measured: measures.mjs (idle, steady, burst), one module per scenario
//   report/               this run's figures → Markdown; analysis.mjs keeps BENCHMARKS.md's hand-written part
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { startLoadgen } from './loadgen-client.mjs';
import { Children } from './processes.mjs';
import { missingHeadings, withAnalysis } from './report/analysis.mjs';
import { render } from './report/render.mjs';
import { idleHeap } from './scenarios/idle-heap.mjs';
import { serverLadders } from './scenarios/ladders.mjs';
import { postThroughput } from './scenarios/post-throughput.mjs';
import { presenceChurn } from './scenarios/presence.mjs';
import { replayStorm } from './scenarios/replay-storm.mjs';
import { emptyResults } from './scenarios/results.mjs';
import { workerLadders } from './scenarios/workers.mjs';
import { NCHAN, NGINX, serversOf } from './servers.mjs';
import { settingsFrom } from './settings.mjs';

/**
 * @typedef {import('./scenarios/scenario.mjs').Scenario} Scenario
 * @typedef {import('./settings.mjs').Settings} Settings
 */

const root = new URL('..', import.meta.url).pathname;

/**
 * Every scenario, in the order they run. A new scenario is one module in
 * scenarios/ and its entry here; its figures reach the report through
 * Results (scenarios/scenario.mjs).
 * @param {Settings} settings
 * @param {boolean} haveNchan
 * @returns {Scenario[]}
 */
function scenariosOf(settings, haveNchan) {
  return [
    ...serverLadders(settings, haveNchan),
    ...workerLadders(settings, haveNchan),
    presenceChurn,
    replayStorm,
    idleHeap,
    postThroughput,
  ];
}

async function main() {
  const started = Date.now();
  const settings = settingsFrom(process.argv);
  const children = new Children();
  // Whatever this run started dies with it, however it ends.
  process.on('exit', () => children.killAll());
  for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) process.once(signal, () => process.exit(130));
  const haveNchan = existsSync(NGINX) && existsSync(NCHAN);
  // The SQLite stores' files of this run; the id names its Redis keys.
  const tmp = mkdtempSync(join(os.tmpdir(), 'wallcast-bench-'));
  const loadgen = startLoadgen(children, root);
  /** @type {import('./scenarios/scenario.mjs').Bench} */
  const bench = {
    settings,
    loadgen,
    haveNchan,
    root,
    servers: serversOf({ children, root, tmp, id: `${process.pid}-${Date.now()}` }),
    log: (line) => console.log(`bench: [${Math.round((Date.now() - started) / 1000)} s] ${line}`),
  };
  const results = emptyResults();
  const scenarios = scenariosOf(settings, haveNchan);
  for (const key of settings.only ?? []) {
    if (!scenarios.some((scenario) => scenario.key === key))
      console.error(`bench: --only ${key}: no such scenario here`);
  }
  try {
    for (const scenario of scenarios) {
      if (settings.only === undefined || settings.only.has(scenario.key)) await scenario.run(bench, results);
    }
  } finally {
    loadgen.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  bench.log('done');
  const report = render(results, settings, haveNchan);
  console.log(report);
  if (settings.mode !== 'quick' && settings.only === undefined) writeBenchmarks(join(root, 'BENCHMARKS.md'), report);
}

/**
 * This run's report above the marker, the file's hand-written part below it as it was.
 * @param {string} file
 * @param {string} report
 */
function writeBenchmarks(file, report) {
  const text = withAnalysis(report, existsSync(file) ? readFileSync(file, 'utf8') : undefined);
  writeFileSync(file, text);
  for (const heading of missingHeadings(text)) {
    console.error(`bench: the report links to "${heading}", which BENCHMARKS.md's hand-written part does not have`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
