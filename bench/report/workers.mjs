// @ts-check
// Issue 20's section: wallcast with two workers and nginx + nchan with two,
// each beside its one-process ladder of the same run: steady latency and CPU,
// the cores the server and the load generator took, the burst, and the
// ratios two against one.
import os from 'node:os';
import { WORKER_LADDERS } from '../scenarios/results.mjs';
import { count, faults, fmt, ms, ratio, row, times } from './format.mjs';

/**
 * @typedef {import('../scenarios/results.mjs').Ladder} Ladder
 * @typedef {import('../settings.mjs').Settings} Settings
 */

/**
 * @param {Record<string, Ladder>} L
 * @param {Settings} settings
 */
export function workersSection(L, { workerSteadyScales, workerBurstScales }) {
  const W = L[WORKER_LADDERS.wallcast];
  const [n, m] = [workerSteadyScales[0] ?? 0, workerBurstScales[0] ?? 0];
  if (!W) return [];
  const N = L[WORKER_LADDERS.nchan];
  const lines = [`## Workers: two processes against one (issue 20)`, ''];
  lines.push(
    row([
      'server',
      `steady p50 / p99 / max ms at ${count(n)}`,
      'CPU µs/delivery',
      'writes/delivery',
      "server's pass, mean ms",
      'server / client / other cores',
      `burst deliveries/s at ${count(m)}`,
      'CPU µs/delivery',
      'lost / dup / dropped (steady; burst)',
    ]),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
  );
  for (const l of [L.wallcast, W, L.nchan, N]) {
    if (!l) continue;
    const [s, b] = [l.steady[n], l.burst[m]];
    if (l.error) lines.push(row([l.name, `failed: ${l.error}`, '', '', '', '', '', '', '']));
    lines.push(
      row([
        l.name,
        s ? `${ms(s.p50)} / ${ms(s.p99)} / ${ms(s.max)}` : 'n/a',
        fmt(s?.cpuPerDelivery ?? Number.NaN, 2),
        s?.writesPerDelivery === undefined ? 'n/a' : fmt(s.writesPerDelivery, 3),
        s?.passMs === undefined ? 'n/a' : fmt(s.passMs, 1),
        s ? `${fmt(s.serverCores, 2)} / ${fmt(s.clientCores, 2)} / ${fmt(s.otherCores, 2)}` : 'n/a',
        fmt(b?.deliveriesPerSecond ?? Number.NaN, 0),
        fmt(b?.cpuPerDelivery ?? Number.NaN, 2),
        `${faults(s)}; ${faults(b)}`,
      ]),
    );
  }
  /** @type {[string, Ladder | undefined, Ladder | undefined][]} */
  const pairs = [
    ['wallcast: 2 workers / one process', W, L.wallcast],
    ['nginx + nchan: 2 workers / one', N, L.nchan],
    ['2 workers: wallcast / nginx + nchan', W, N],
  ];
  const measured = pairs.filter(([, a, b]) => a && b);
  if (measured.length > 0) {
    lines.push(
      '',
      row([
        'ratio',
        `steady p99 at ${count(n)}`,
        "server's pass (mean)",
        'steady CPU/delivery',
        `burst deliveries/s at ${count(m)}`,
      ]),
      row(['---', '---:', '---:', '---:', '---:']),
    );
  }
  for (const [name, a, b] of measured) {
    if (!a || !b) continue;
    lines.push(
      row([
        name,
        times(ratio(a.steady[n]?.p99, b.steady[n]?.p99)),
        times(ratio(a.steady[n]?.passMs, b.steady[n]?.passMs)),
        times(ratio(a.steady[n]?.cpuPerDelivery, b.steady[n]?.cpuPerDelivery)),
        times(ratio(a.burst[m]?.deliveriesPerSecond, b.burst[m]?.deliveriesPerSecond)),
      ]),
    );
  }
  lines.push(
    '',
    `wallcast with WALLCAST_WORKERS=2 is a primary (the store, no HTTP) and two workers (the streams, handed ` +
      "out in turn by node:cluster); its CPU is all three processes'. nginx + nchan with worker_processes 2: " +
      "its two workers'. server / client / other cores: the CPU of the server's processes, of the load generator " +
      `and of everything else on the machine over the steady window, in cores (this machine has ${os.availableParallelism()}). ` +
      'The load generator (one process, bench/loadgen.mjs) shares the cores with the server: where the three add up ' +
      'to nearly all of them, a delivery also waits for a core, and a second worker has less to gain than on a ' +
      "machine with cores to spare. server's pass: wallcast's mean time from a message's post to the last " +
      "write of its pass over the wall's streams (its /metrics, `wallcast_delivery_lag_seconds`; with workers, " +
      "each worker's pass over its share, from the primary's post): the server's side of a delivery's latency, " +
      'without the subscribers reading what was written.',
    '',
  );
  return lines;
}
