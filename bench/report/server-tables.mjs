// @ts-check
// The tables with one row per server and scale: Steady, Burst, Idle memory,
// and --full's largest wall. Every ladder the run measured appears in the
// first three, so a new ladder scenario needs no code here.
import { byScale, count, faults, fmt, kb, ms, row } from './format.mjs';

/**
 * @typedef {import('../scenarios/results.mjs').Ladder} Ladder
 * @typedef {import('../settings.mjs').Settings} Settings
 */

/** @param {Record<string, Ladder>} L */
export function steadySection(L) {
  const lines = ['## Steady', ''];
  lines.push(
    row([
      'server',
      'streams',
      'CPU µs/delivery',
      'user / kernel µs',
      'p50 / p99 / max ms',
      'bytes/event',
      'writes/delivery',
      'client cores',
      'other cores',
      'lost / dup / dropped',
    ]),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
  );
  for (const l of Object.values(L)) {
    if (l.error) lines.push(row([l.name, '', `failed: ${l.error}`, '', '', '', '', '', '', '']));
    for (const [n, s] of byScale(l.steady)) {
      lines.push(
        row([
          l.name,
          count(n),
          fmt(s.cpuPerDelivery, 2),
          `${fmt(s.userPerDelivery, 2)} / ${fmt(s.sysPerDelivery, 2)}`,
          `${ms(s.p50)} / ${ms(s.p99)} / ${ms(s.max)}`,
          fmt(s.bytes / Math.max(1, s.delivered), 0),
          s.writesPerDelivery === undefined ? 'n/a' : fmt(s.writesPerDelivery, 3),
          fmt(s.clientCores, 2),
          fmt(s.otherCores, 2),
          faults(s),
        ]),
      );
    }
  }
  lines.push(
    '',
    'bytes/event: what a subscriber received per event. wallcast sends the whole message JSON with its HTML; ' +
      "the peers send the posted text, padded so that their events are about as long as wallcast's (better-sse " +
      "as a JSON string with an event name). writes/delivery: wallcast's socket writes of live events per event " +
      'delivered: 1.000 at a steady rate; below it, passes ran late enough to join events, which makes a delivery ' +
      'cheaper and says the machine was short of CPU (compare CPU only between rows near 1.000). client cores: CPU of ' +
      'the one subscriber process (bench/loadgen.mjs) over the scenario; near 1.0 it is saturated, and latency ' +
      'includes its own queueing, for every server alike. other cores: what everything else on the machine ' +
      "took over the same window (/proc/stat, less the server's and the load generator's CPU): on a quiet " +
      "machine near 0; where it is not, the row was measured beside someone else's work.",
    '',
  );
  return lines;
}

/** @param {Record<string, Ladder>} L */
export function burstSection(L) {
  const lines = ['## Burst', ''];
  lines.push(
    row(['server', 'streams', 'deliveries/s', 'CPU µs/delivery', 'writes/delivery', 'seconds', 'lost / dup / dropped']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:']),
  );
  for (const l of Object.values(L)) {
    for (const [n, s] of byScale(l.burst)) {
      const writes = s.writesPerDelivery === undefined ? 'n/a' : fmt(s.writesPerDelivery, 3);
      const cells = [fmt(s.deliveriesPerSecond, 0), fmt(s.cpuPerDelivery, 2), writes, fmt(s.seconds, 2), faults(s)];
      lines.push(row([l.name, count(n), ...cells]));
    }
  }
  lines.push(
    '',
    "writes/delivery: wallcast's socket writes of live events per event delivered (its /metrics): below 1 when " +
      'events posted while a pass over the wall is under way go out in one write. The peers write once per event.',
    '',
  );
  return lines;
}

/**
 * @param {Record<string, Ladder>} L
 * @param {Settings} settings
 */
export function idleSection(L, settings) {
  const lines = ['## Idle memory', ''];
  lines.push(row(['server', 'streams (open)', 'KB per stream', 'RSS MB']), row(['---', '---:', '---:', '---:']));
  for (const l of Object.values(L)) {
    for (const [n, s] of byScale(l.idle)) {
      lines.push(row([l.name, `${count(n)} (${count(s.open)})`, kb(s.bytesPerStream), fmt(s.rss / 2 ** 20, 0)]));
    }
  }
  // The same process at two scales: the growth between them is what one more stream costs, without the
  // fixed growth of a process that starts serving (a Node heap's young generation, code compiled).
  const [low, high] = [...settings.idleScales].sort((x, y) => x - y);
  const added = Object.values(L).flatMap((l) => {
    const [a, b] = [l.idle[low ?? 0], l.idle[high ?? 0]];
    return a && b && high !== low ? [`${l.name} ${kb((b.rss - a.rss) / ((high ?? 0) - (low ?? 0)))} KB`] : [];
  });
  lines.push('');
  if (added.length > 0) {
    lines.push(
      `KB per stream is RSS growth from the process's start over its streams. Per stream added from ` +
        `${count(low ?? 0)} to ${count(high ?? 0)} (the same process; fixed growth left out): ${added.join(', ')}.`,
      '',
    );
  }
  return lines;
}

/**
 * @param {Ladder | undefined} w
 * @param {Ladder | undefined} nchan
 * @param {number} fullScale
 */
export function largestSection(w, nchan, fullScale) {
  const lines = [`## Largest wall (--full): ${count(fullScale)} streams on one process`, ''];
  lines.push(
    row(['server', 'open', 'CPU µs/delivery', 'p50 / p99 / max ms', 'KB per stream', 'RSS MB', 'lost / dup / dropped']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:']),
  );
  for (const l of [w, nchan]) {
    const s = l?.steady[fullScale];
    const i = l?.idle[fullScale];
    if (!l || !s) continue;
    lines.push(
      row([
        l.name,
        count(i?.open ?? s.sockets - s.closed),
        fmt(s.cpuPerDelivery, 2),
        `${ms(s.p50)} / ${ms(s.p99)} / ${ms(s.max)}`,
        i ? kb(i.bytesPerStream) : 'n/a',
        i ? fmt(i.rss / 2 ** 20, 0) : 'n/a',
        faults(s),
      ]),
    );
  }
  lines.push(
    '',
    'The process limit is 20,000 open files; the client sockets come from many loopback source addresses ' +
      '(bench/loadgen.mjs) so that ephemeral ports never run out. KB per stream: RSS growth over the idle streams, ' +
      'before any post.',
    '',
  );
  return lines;
}
