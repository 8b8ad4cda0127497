// @ts-check
// The tables that set one server's figures against another's, at the same
// scale in the same run: wallcast against every peer, wallcast's kernel time
// against the one-write floor, and each store against the memory store.
import { byScale, count, faults, fmt, ms, ratio, row, times } from './format.mjs';

/**
 * @typedef {import('../scenarios/results.mjs').Ladder} Ladder
 * @typedef {import('../settings.mjs').Settings} Settings
 */

/**
 * wallcast against each peer at the peers' scale: no threshold, "lighter" says which way it falls.
 * @param {Record<string, Ladder>} L
 * @param {Ladder} w
 * @param {Settings} settings
 */
export function peersSection(L, w, { peerScale, burstScales }) {
  const lines = [`## wallcast against every peer (ratios wallcast / peer)`, ''];
  const burstCells = burstScales.map((n) => `burst deliveries/s at ${count(n)}`);
  lines.push(
    row([
      'peer',
      `steady CPU/delivery at ${count(peerScale)}`,
      ...burstCells,
      `idle memory/stream at ${count(peerScale)}`,
      'lighter on all',
    ]),
    row(['---', '---:', ...burstScales.map(() => '---:'), '---:', ':---:']),
  );
  for (const key of ['nchan', 'raw', 'better-sse', 'hono']) {
    const p = L[key];
    if (!p) continue;
    const cpu = ratio(w.steady[peerScale]?.cpuPerDelivery, p.steady[peerScale]?.cpuPerDelivery);
    const bursts = burstScales.map((n) => ratio(w.burst[n]?.deliveriesPerSecond, p.burst[n]?.deliveriesPerSecond));
    const mem = ratio(w.idle[peerScale]?.bytesPerStream, p.idle[peerScale]?.bytesPerStream);
    // Over what was measured: a burst a peer did not run (--full only) neither passes nor fails it.
    const lighter = cpu < 1 && mem < 1 && bursts.every((x) => Number.isNaN(x) || x > 1);
    lines.push(row([p.name, times(cpu), ...bursts.map(times), times(mem), lighter ? 'yes' : '**no**']));
  }
  lines.push(
    '',
    'Lighter: less CPU per delivery and less memory per stream (ratio < 1), more burst deliveries/s (ratio > 1), ' +
      'over the columns measured. n/a: not run in this mode (the Node peers burst at 2,000 in --full only).',
    '',
  );
  return lines;
}

/**
 * The kernel floor: one write per stream per event, as the raw broadcaster and nchan do it.
 * @param {Record<string, Ladder>} L
 * @param {Ladder} w
 */
export function floorSection(L, w) {
  const scales = byScale(w.steady).map(([n, s]) => {
    const rawSys = L.raw?.steady[n]?.sysPerDelivery;
    const nchanSys = L.nchan?.steady[n]?.sysPerDelivery;
    const known = [rawSys, nchanSys].filter((x) => x !== undefined);
    const floor = known.length > 0 ? Math.min(...known) : Number.NaN;
    return { n, s, rawSys, nchanSys, floor, floorRatio: ratio(s.sysPerDelivery, floor) };
  });
  const lines = ['## Where the time goes: kernel time against the floor (steady)', ''];
  lines.push(
    row([
      'streams',
      'wallcast user / kernel µs',
      'raw node:http kernel µs',
      'nchan kernel µs',
      'floor µs',
      'wallcast kernel / floor',
    ]),
    row(['---:', '---:', '---:', '---:', '---:', '---:']),
  );
  for (const { n, s, rawSys, nchanSys, floor, floorRatio } of scales) {
    lines.push(
      row([
        count(n),
        `${fmt(s.userPerDelivery, 2)} / ${fmt(s.sysPerDelivery, 2)}`,
        fmt(rawSys ?? Number.NaN, 2),
        fmt(nchanSys ?? Number.NaN, 2),
        fmt(floor, 2),
        times(floorRatio),
      ]),
    );
  }
  const summary = scales.map(({ n, floorRatio }) => `${times(floorRatio)} at ${count(n)}`).join(', ');
  lines.push(
    '',
    `wallcast's kernel time per delivery against the floor: ${summary}. The floor is the lower of the raw broadcaster's ` +
      "and nchan's kernel µs per delivery at the same scale (nchan's alone where the raw broadcaster did not run): both " +
      "make one write(2) per stream per event, which on loopback also runs the receiver's TCP input and wake-up. " +
      'Near 1.0× the kernel time is the syscalls a fan-out cannot avoid; what is left to win is user time, ' +
      'or coalescing events into fewer writes (the burst scenario).',
    '',
  );
  return lines;
}

/**
 * @param {Record<string, Ladder>} L
 * @param {Ladder} w
 * @param {Settings} settings
 */
export function storesSection(L, w, { peerScale, burstScales }) {
  const lines = ['## Stores (wallcast, ratios to the memory store)', ''];
  lines.push(
    row(['store', 'scenario', 'CPU µs/delivery', 'ratio to memory', 'p99 ms / deliveries/s', 'lost / dup / dropped']),
    row(['---', '---', '---:', '---:', '---:', '---:']),
  );
  for (const key of ['wallcast', 'sqlite', 'redis']) {
    const l = L[key];
    if (!l) continue;
    if (l.error) lines.push(row([l.name, '', `failed: ${l.error}`, '', '', '']));
    const s = l.steady[peerScale];
    const m = w.steady[peerScale];
    if (s)
      lines.push(
        row([
          l.name,
          `steady ${count(peerScale)}`,
          fmt(s.cpuPerDelivery, 2),
          fmt(ratio(s.cpuPerDelivery, m?.cpuPerDelivery), 2),
          ms(s.p99),
          faults(s),
        ]),
      );
    for (const n of burstScales) {
      const b = l.burst[n];
      if (b)
        lines.push(
          row([
            l.name,
            `burst ${count(n)}`,
            fmt(b.cpuPerDelivery, 2),
            fmt(ratio(b.cpuPerDelivery, w.burst[n]?.cpuPerDelivery), 2),
            fmt(b.deliveriesPerSecond, 0),
            faults(b),
          ]),
        );
    }
  }
  lines.push(
    '',
    'SQLite commits with synchronous=FULL (group commit); Redis is the local server, keys under a prefix of this run, deleted afterwards.',
    '',
  );
  return lines;
}
