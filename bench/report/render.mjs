// @ts-check
// A run's results → the generated part of BENCHMARKS.md: the header (the
// machine, the command, what each measure means), the targets, then every
// table, in this order. Every figure in it is this run's; the analysis of
// earlier runs lives in the hand-written part (report/analysis.mjs).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { NGINX } from '../servers.mjs';
import { commandOf } from '../settings.mjs';
import { heapSection } from './idle-heap.mjs';
import { throughputSection } from './post-throughput.mjs';
import { presenceSection } from './presence.mjs';
import { floorSection, peersSection, storesSection } from './ratio-tables.mjs';
import { replaySection } from './replay-storm.mjs';
import { burstSection, idleSection, largestSection, steadySection } from './server-tables.mjs';
import { targets, targetsSection } from './targets.mjs';
import { workersSection } from './workers.mjs';

/**
 * @typedef {import('../scenarios/results.mjs').Results} Results
 * @typedef {import('../settings.mjs').Settings} Settings
 */

/**
 * @param {Results} r
 * @param {Settings} settings
 * @param {boolean} haveNchan
 * @returns {string}
 */
export function render(r, settings, haveNchan) {
  const L = r.ladders;
  const w = L.wallcast;
  const base = haveNchan ? L.nchan : L.raw;
  const lines = [];
  lines.push(...header(settings, haveNchan));
  lines.push(...targetsSection(targets(r, settings, haveNchan), base?.name ?? 'baseline'));
  lines.push(...steadySection(L), ...burstSection(L), ...idleSection(L, settings));
  if (w) lines.push(...peersSection(L, w, settings), ...floorSection(L, w), ...storesSection(L, w, settings));
  if (settings.mode === 'full')
    lines.push(...largestSection(L['wallcast-largest'], L['nchan-largest'], settings.fullScale));
  lines.push(...workersSection(L, settings));
  if (r.presence) lines.push(...presenceSection(r.presence, L, settings));
  if (r.replay) lines.push(...replaySection(r.replay, settings));
  if (r.heap) lines.push(...heapSection(r.heap, settings));
  lines.push(...throughputSection(r.throughput, haveNchan, settings));
  return `${lines.join('\n')}\n`;
}

/**
 * The machine, the command, and what each measure means.
 * @param {Settings} settings
 * @param {boolean} haveNchan
 */
function header(settings, haveNchan) {
  const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  const nginxVersion = existsSync(NGINX)
    ? spawnSync(NGINX, ['-v'], { encoding: 'utf8' }).stderr.trim() + (haveNchan ? ' with nchan' : '')
    : 'no nginx';
  const { steadyRate, steadySeconds, burstPosts, burstPosters } = settings;
  return [
    '# Benchmarks',
    '',
    `Measured ${new Date().toISOString()} with \`${commandOf(settings)}\` on ${os.cpus().length} × ${cpuModel}, ` +
      `${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${nginxVersion.replace(/^nginx version: /, '')}.`,
    'All servers ran one after another in the same run; every ratio compares numbers from this run only.',
    'The machine is shared and noisy: compare ratios, not absolute numbers, across runs.',
    '',
    `- **steady**: ${steadyRate} posts/s for ${steadySeconds} s, one post per tick (one write per stream per event). ` +
      'A smaller scale is the same server process after the extra streams closed.',
    `- **burst**: ${burstPosts} posts from ${burstPosters} concurrent posters, as fast as they are accepted.`,
    '- **idle**: RSS growth of the server process over idle streams, read before the first post.',
    "- **CPU**: utime + stime of the server's processes (wallcast's process and any it forks, nginx's workers " +
      'for nchan) over the scenario, divided by the events delivered. A scenario starts once the server is quiet.',
    '- **lost / dup / dropped**: events a subscriber never got, events it got twice (by seq), and subscribers ' +
      'whose stream closed or never opened. Every event carries its id.',
    '',
  ];
}
