// @ts-check
// The targets table: every target the issues set, at every scale they name,
// as a ratio of this run's figures, met only if the wallcast scenarios
// behind it lost, duplicated and dropped nothing. Why a target is missed is
// not written here: that is analysis of particular runs (profiles, one-off
// experiments), kept in the hand-written part of BENCHMARKS.md. A target
// names the heading there that discusses it, and the table links to it.
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
      analysis: store === 'sqlite' ? ANALYSIS.sqlitePosts : undefined,
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
