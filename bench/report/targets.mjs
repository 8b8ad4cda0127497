// @ts-check
// The targets table: every target the issues set, at every scale they name,
// as a ratio of this run's figures, met only if the wallcast scenarios
// behind it lost, duplicated and dropped nothing. Why a target is missed is
// not written here: that is analysis of particular runs (profiles, one-off
// experiments), kept in the hand-written part of BENCHMARKS.md. A target
// names the heading there that discusses it, and the table links to it.
import { PRESENCE_LADDERS, WORKER_LADDERS } from '../scenarios/results.mjs';
import { ANALYSIS } from './analysis.mjs';
import { anchorOf, clean, count, faultCount, faults, fmt, ratio, row } from './format.mjs';

/**
 * @typedef {import('../loadgen-client.mjs').Stats} Stats
 * @typedef {import('../scenarios/results.mjs').Results} Results
 * @typedef {import('../scenarios/results.mjs').Ladder} Ladder
 * @typedef {import('../scenarios/results.mjs').Throughput} Throughput
 * @typedef {import('../settings.mjs').Settings} Settings
 *
 * @typedef {object} Target
 * @property {string} name
 * @property {number} value
 * @property {(x: number) => boolean} ok
 * @property {(Stats | undefined)[]} wallcast the wallcast scenarios behind the figure: it only counts with 0 lost, dup and dropped
 * @property {[string, Stats | undefined][]} [others] the peers' scenarios, shown beside it
 * @property {number} [digits]
 * @property {string} [analysis] the heading, in the hand-written analysis, of where the time or the bytes go when it is missed
 */

/**
 * Every target, in the table's order.
 * @param {Results} r
 * @param {Settings} settings
 * @param {boolean} haveNchan
 * @returns {Target[]}
 */
export function targets(r, settings, haveNchan) {
  const { steadyScales, burstScales, memoryScale, peerScale, fullScale } = settings;
  const L = r.ladders;
  const w = L.wallcast;
  const b = haveNchan ? L.nchan : L.raw;
  const bn = b?.name ?? 'baseline';
  const ascending = (/** @type {number[]} */ scales) => [...scales].sort((x, y) => x - y);
  /** @type {Target[]} */
  const list = [];
  for (const n of ascending(steadyScales)) {
    const [ws, bs] = [w?.steady[n], b?.steady[n]];
    list.push({
      name: `steady CPU per delivery ≤ 0.9× ${bn} at ${count(n)}`,
      value: ratio(ws?.cpuPerDelivery, bs?.cpuPerDelivery),
      analysis: ANALYSIS.steadyCpu,
      ok: (x) => x <= 0.9,
      wallcast: [ws],
      others: [[bn, bs]],
    });
  }
  for (const n of ascending(steadyScales)) {
    const [ws, bs] = [w?.steady[n], b?.steady[n]];
    list.push({
      name: `steady p99 latency ≤ 1.0× ${bn} at ${count(n)}`,
      value: ratio(ws?.p99, bs?.p99),
      analysis: ANALYSIS.steadyP99,
      ok: (x) => x <= 1.0,
      wallcast: [ws],
      others: [[bn, bs]],
    });
  }
  for (const n of ascending(burstScales)) {
    const [wb, bb] = [w?.burst[n], b?.burst[n]];
    list.push({
      name: `burst deliveries/s ≥ 2× ${bn} at ${count(n)}`,
      value: ratio(wb?.deliveriesPerSecond, bb?.deliveriesPerSecond),
      analysis: ANALYSIS.burst,
      ok: (x) => x >= 2,
      wallcast: [wb],
      others: [[bn, bb]],
    });
  }
  const [wi, bi] = [w?.idle[memoryScale], b?.idle[memoryScale]];
  list.push(
    {
      name: `idle memory per stream ≤ 1.0× ${bn} at ${count(memoryScale)}`,
      value: ratio(wi?.bytesPerStream, bi?.bytesPerStream),
      ok: (x) => x <= 1.0,
      wallcast: [],
    },
    {
      name: `idle memory per stream ≤ 8 KB at ${count(memoryScale)} (KB)`,
      value: (wi?.bytesPerStream ?? Number.NaN) / 1024,
      analysis: ANALYSIS.idleMemory,
      ok: (x) => x <= 8,
      wallcast: [],
    },
  );
  for (const store of ['sqlite', 'redis']) {
    const s = L[store];
    const ws = w?.steady[peerScale];
    list.push({
      name: `${store} store: steady CPU per delivery ≤ 1.1× memory store at ${count(peerScale)}`,
      value: ratio(s?.steady[peerScale]?.cpuPerDelivery, ws?.cpuPerDelivery),
      analysis: ANALYSIS.storeSteady,
      ok: (x) => x <= 1.1,
      wallcast: [s?.steady[peerScale], ws],
    });
    for (const n of ascending(burstScales)) {
      list.push({
        name: `${store} store: burst CPU per delivery ≤ 1.1× memory store at ${count(n)}`,
        value: ratio(s?.burst[n]?.cpuPerDelivery, w?.burst[n]?.cpuPerDelivery),
        analysis: store === 'sqlite' ? ANALYSIS.sqliteBurst : ANALYSIS.redisBurst,
        ok: (x) => x <= 1.1,
        wallcast: [s?.burst[n], w?.burst[n]],
      });
    }
  }
  const nchanPosts = r.throughput.nchan;
  for (const store of ['memory', 'sqlite']) {
    list.push({
      name: `${store} store: posts/s ≥ 1.0× nchan (no subscribers)`,
      value: ratio(postsOf(r.throughput[store]), postsOf(nchanPosts)),
      analysis: store === 'sqlite' ? ANALYSIS.sqlitePosts : ANALYSIS.memoryPosts,
      ok: (x) => x >= 1.0,
      wallcast: [],
    });
  }
  if (r.replay) {
    list.push({
      name: `replay storm: all ${count(settings.replaySubscribers)} caught up within 3 s (s)`,
      value: r.replay.seconds,
      ok: (x) => x <= 3,
      wallcast: [r.replay],
    });
  }
  if (settings.mode === 'full') {
    const s = L['wallcast-largest']?.steady[fullScale];
    list.push({
      name: `largest wall: steady at ${count(fullScale)} streams, 0 lost / dup / dropped (faults)`,
      value: faultCount(s),
      ok: (x) => x === 0,
      wallcast: [s],
      digits: 0,
    });
  }
  list.push(...workerTargets(L, settings, haveNchan), ...presenceTargets(r));
  const every = [...wallcastScenarios(L), ...(r.replay ? [r.replay] : [])];
  list.push({
    name: `every wallcast scenario (${every.length}, all stores): 0 lost, 0 duplicated, 0 dropped (faults)`,
    value: every.reduce((sum, s) => sum + faultCount(s), 0),
    ok: (x) => x === 0,
    wallcast: every,
    digits: 0,
  });
  return list;
}

/**
 * Issue 20: two workers against one process, and against nginx + nchan with two workers, at the same scale.
 * The thresholds against nchan are the one-process ones.
 * @param {Record<string, Ladder>} L
 * @param {Settings} settings
 * @param {boolean} haveNchan
 * @returns {Target[]}
 */
function workerTargets(L, { workerSteadyScales }, haveNchan) {
  const W = L[WORKER_LADDERS.wallcast];
  const N = L[WORKER_LADDERS.nchan];
  const nn = N?.name ?? 'nginx + nchan (2 workers)';
  if (!W) return [];
  return workerSteadyScales.flatMap((n) => {
    const [ws, w1, ns] = [W.steady[n], L.wallcast?.steady[n], N?.steady[n]];
    /** @type {Target[]} */
    const rows = [
      {
        name: `2 workers: steady p99 latency ≤ 0.65× one process at ${count(n)}`,
        value: ratio(ws?.p99, w1?.p99),
        analysis: ANALYSIS.workers,
        ok: (x) => x <= 0.65,
        wallcast: [ws, w1],
      },
      {
        name: `2 workers: steady CPU per delivery (all processes) ≤ 1.1× one process at ${count(n)}`,
        value: ratio(ws?.cpuPerDelivery, w1?.cpuPerDelivery),
        analysis: ANALYSIS.workers,
        ok: (x) => x <= 1.1,
        wallcast: [ws, w1],
      },
    ];
    if (haveNchan) {
      rows.push(
        {
          name: `2 workers: steady CPU per delivery ≤ 0.9× ${nn} at ${count(n)}`,
          value: ratio(ws?.cpuPerDelivery, ns?.cpuPerDelivery),
          analysis: ANALYSIS.workers,
          ok: (x) => x <= 0.9,
          wallcast: [ws],
          others: [[nn, ns]],
        },
        {
          name: `2 workers: steady p99 latency ≤ 1.0× ${nn} at ${count(n)}`,
          value: ratio(ws?.p99, ns?.p99),
          analysis: ANALYSIS.workers,
          ok: (x) => x <= 1.0,
          wallcast: [ws],
          others: [[nn, ns]],
        },
      );
    }
    return rows;
  });
}

/**
 * Issue 17: what asking for presence costs under churn, and whether the count is right once the churn stops.
 * @param {Results} r
 * @returns {Target[]}
 */
function presenceTargets({ ladders: L, presence: P }) {
  if (!P) return [];
  const on = L[PRESENCE_LADDERS.on]?.steady[P.streams];
  const off = L[PRESENCE_LADDERS.off]?.steady[P.streams];
  const after = P.runs[PRESENCE_LADDERS.on]?.after;
  const grace = P.graceMs / 1000;
  return [
    {
      name:
        `presence: CPU per delivery with presence=count ≤ 1.05× without, ${count(P.streams)} streams ` +
        `beside a churn of ${P.churnRate}/s`,
      value: ratio(on?.cpuPerDelivery, off?.cpuPerDelivery),
      analysis: ANALYSIS.presenceCpu,
      ok: (x) => x <= 1.05,
      wallcast: [on, off],
    },
    {
      // A churned person stays counted for the grace, by the contract: the real number is the streams open
      // once the last churned person's grace is over, so the time is counted from then.
      name: `presence: every stream's count = the streams open within 2 s once the churn stops (s, the ${grace} s grace left out)`,
      value: after?.agreed && after.stable ? after.seconds - grace : Number.NaN,
      ok: (x) => x <= 2,
      wallcast: [on],
    },
  ];
}

/** @param {Throughput | undefined} t */
export const postsOf = (t) => (t && 'postsPerSecond' in t ? t.postsPerSecond : Number.NaN);

/**
 * The steady and burst runs of every wallcast ladder, whichever scenario ran it.
 * @param {Record<string, Ladder>} L
 */
function wallcastScenarios(L) {
  return Object.values(L).flatMap((l) => (l.wallcast ? [...Object.values(l.steady), ...Object.values(l.burst)] : []));
}

/** @param {Target} t */
const met = (t) => Number.isFinite(t.value) && t.ok(t.value) && t.wallcast.every(clean);

/**
 * @param {Target[]} list
 * @param {string} baseName
 */
export function targetsSection(list, baseName) {
  const lines = [`## Targets (wallcast / ${baseName} unless named)`, ''];
  lines.push(row(['target', 'measured', 'met', 'lost / dup / dropped']), row(['---', '---:', ':---:', '---']));
  for (const t of list) {
    const faultText = wallcastFaults(t.wallcast);
    const others = (t.others ?? []).map(([name, s]) => `${name} ${faults(s)}`);
    lines.push(
      row([
        t.name,
        fmt(t.value, t.digits ?? 2),
        met(t) ? 'yes' : '**no**',
        [faultText, ...others].filter(Boolean).join('; '),
      ]),
    );
  }
  const missed = list.filter((t) => !met(t));
  if (missed.length > 0) {
    lines.push('', '### Where a target is missed, and what would close it', '');
    for (const analysis of [...new Set(missed.map((t) => t.analysis))]) {
      const names = missed.filter((t) => t.analysis === analysis).map((t) => t.name);
      const where =
        analysis === undefined
          ? 'no hand-written analysis yet.'
          : `see [${analysis}](${anchorOf(analysis)}) in the hand-written analysis below.`;
      lines.push(`- **${names.join('; ')}**: ${where}`);
    }
  }
  lines.push(
    '',
    'A ratio target is met only if the wallcast scenarios behind it lost, duplicated and dropped nothing. ' +
      'Thresholds are the issue\'s ("Lighter than nchan at every scale, on every store, against every peer"), not tuned to this run.',
    '',
  );
  return lines;
}

/**
 * Lost / dup / dropped summed over the wallcast scenarios behind a target.
 * @param {(Stats | undefined)[]} list
 */
function wallcastFaults(list) {
  if (list.length === 0) return '';
  if (list.some((s) => s === undefined)) return 'wallcast n/a (not run)';
  const sum = (/** @type {'lost' | 'dups' | 'closed'} */ k) => list.reduce((n, s) => n + (s?.[k] ?? 0), 0);
  const over = list.length > 1 ? ` over ${list.length} scenarios` : '';
  return `wallcast ${sum('lost')} / ${sum('dups')} / ${sum('closed')}${over}`;
}
