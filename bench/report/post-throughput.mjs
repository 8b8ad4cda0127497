// @ts-check
// Posts/s with no subscribers, each server against nchan's publisher and the raw broadcaster.
import { count, fmt, ratio, row } from './format.mjs';
import { postsOf } from './targets.mjs';

/** The rows' names, by the scenario's server keys; a wallcast store is `wallcast <store>`. */
const NAMES = /** @type {Record<string, string>} */ ({
  raw: 'raw node:http (no store)',
  nchan: 'nginx + nchan (POST /pub/bench)',
});

/**
 * @param {Record<string, import('../scenarios/results.mjs').Throughput>} throughput
 * @param {boolean} haveNchan
 * @param {import('../settings.mjs').Settings} settings
 */
export function throughputSection(throughput, haveNchan, { throughputPosters, throughputSeconds }) {
  const lines = ['## Post throughput (no subscribers)', ''];
  lines.push(
    row(['server / store', 'posts/s', 'ratio to nchan', 'ratio to raw', 'refused']),
    row(['---', '---:', '---:', '---:', '---:']),
  );
  for (const [key, t] of Object.entries(throughput)) {
    const name = NAMES[key] ?? `wallcast ${key}`;
    if ('error' in t) {
      lines.push(row([name, `failed: ${t.error}`, '', '', '']));
      continue;
    }
    lines.push(
      row([
        name,
        fmt(t.postsPerSecond, 0),
        haveNchan ? fmt(ratio(t.postsPerSecond, postsOf(throughput.nchan)), 2) : 'n/a',
        fmt(ratio(t.postsPerSecond, postsOf(throughput.raw)), 2),
        count(t.refused),
      ]),
    );
  }
  lines.push(
    '',
    `${throughputPosters} concurrent keep-alive posters for ${throughputSeconds} s; any 2xx counts (nchan answers 202).`,
    '',
  );
  return lines;
}
