// @ts-check
// Issue 17's section: the presence scenario's two runs side by side (with
// and without presence=count, the same churn beside both), and how long the
// streams' counts took to agree with the streams open.
import { PRESENCE_LADDERS } from '../scenarios/results.mjs';
import { count, faults, fmt, ms, ratio, row, times } from './format.mjs';

/**
 * @typedef {import('../scenarios/results.mjs').Ladder} Ladder
 * @typedef {import('../scenarios/results.mjs').Presence} Presence
 * @typedef {import('../scenarios/results.mjs').Agreement} Agreement
 * @typedef {import('../settings.mjs').Settings} Settings
 */

/**
 * @param {Presence} P
 * @param {Record<string, Ladder>} L
 * @param {Settings} settings
 */
export function presenceSection(P, L, { steadyRate, steadySeconds, churnLeadMs, agreementHoldMs }) {
  const lines = [`## Presence under churn (issue 17)`, ''];
  lines.push(
    `${count(P.streams)} streams on one wall, each with a client id of its own (a person each, as every browser ` +
      `tab of the page is), ${steadyRate} posts/s for ${steadySeconds} s; beside them, from ${churnLeadMs / 1000} s ` +
      `before the posts until they end, ${P.churnRate} streams a second connect, each with a fresh client id, and ` +
      `close ${P.churnLifetimeMs / 1000} s later. Each run on a fresh wallcast (memory) with ` +
      `WALLCAST_PRESENCE_GRACE_MS=${P.graceMs}; the churning streams ask for presence when the others do.`,
    '',
    row([
      'run',
      'CPU µs/delivery',
      'user / kernel µs',
      'p50 / p99 / max ms',
      'writes/delivery',
      'presence events/stream',
      'server / client / other cores',
      'churned (failed)',
      'lost / dup / dropped',
    ]),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
  );
  for (const key of [PRESENCE_LADDERS.off, PRESENCE_LADDERS.on]) {
    const l = L[key];
    const s = l?.steady[P.streams];
    const churn = P.runs[key]?.churn;
    const name = key === PRESENCE_LADDERS.on ? 'presence=count' : 'no presence';
    if (l?.error) lines.push(row([name, `failed: ${l.error}`, '', '', '', '', '', '', '']));
    if (!s) continue;
    lines.push(
      row([
        name,
        fmt(s.cpuPerDelivery, 2),
        `${fmt(s.userPerDelivery, 2)} / ${fmt(s.sysPerDelivery, 2)}`,
        `${ms(s.p50)} / ${ms(s.p99)} / ${ms(s.max)}`,
        s.writesPerDelivery === undefined ? 'n/a' : fmt(s.writesPerDelivery, 3),
        fmt(s.presenceEvents / Math.max(1, s.sockets), 1),
        `${fmt(s.serverCores, 2)} / ${fmt(s.clientCores, 2)} / ${fmt(s.otherCores, 2)}`,
        churn ? `${count(churn.opened)} (${count(churn.failed)})` : 'n/a',
        faults(s),
      ]),
    );
  }
  const [on, off] = [L[PRESENCE_LADDERS.on], L[PRESENCE_LADDERS.off]].map((l) => l?.steady[P.streams]);
  const run = P.runs[PRESENCE_LADDERS.on];
  lines.push(
    '',
    `CPU per delivery with presence / without: ${times(ratio(on?.cpuPerDelivery, off?.cpuPerDelivery))}. ` +
      'A delivery is a posted message to one of the measured streams; presence events are not deliveries (nor ' +
      'counted in writes/delivery, which counts the writes of messages), so their cost is in the ratio. The ' +
      'churning streams get the messages too: their writes are in the CPU of both runs alike, and put ' +
      'writes/delivery above 1 by their share of the streams.',
    '',
    `- After the connects: ${agreementText(run?.initial, 0)}.`,
    `- Once the churn stopped (from the last churning stream's close): ${agreementText(run?.after, P.graceMs)}` +
      `${run?.after?.agreed ? `; the same ${fmt(agreementHoldMs / 1000, 1)} s later: ${run.after.stable ? 'yes' : '**no**, it changed'}` : ''}.`,
    '',
    'Each stream keeps the count of the last presence event it got; they agree when every open stream last heard ' +
      'the number of streams open. A churned person stays counted for the grace after their stream closes (the ' +
      'contract: a reconnect within it changes nothing), then the wall emits at most once a second: so the time ' +
      'from the churn stopping is the grace, up to one emission window, and a pass over the streams.',
    '',
  );
  return lines;
}

/**
 * @param {Agreement | undefined} a
 * @param {number} graceMs what the contract makes the count wait for, shown apart
 */
function agreementText(a, graceMs) {
  if (!a) return 'not measured';
  if (!a.agreed) {
    const heard = a.heard.map(([online, streams]) => `${count(streams)} heard ${count(online)}`).join(', ');
    return `**the streams did not agree** on ${count(a.open)} within the timeout (${heard})`;
  }
  const grace =
    graceMs > 0
      ? ` (${fmt(graceMs / 1000, 1)} s of it the grace: ${fmt(a.seconds - graceMs / 1000, 2)} s after it)`
      : '';
  return `all ${count(a.open)} streams heard ${count(a.open)} within ${fmt(a.seconds, 2)} s${grace}`;
}
