// @ts-check
// The replay storm's paragraph: how long every client took to catch up.
import { count, faults, fmt } from './format.mjs';

/**
 * @param {import('../scenarios/results.mjs').Replay} replay
 * @param {import('../settings.mjs').Settings} settings
 */
export function replaySection(replay, { replaySubscribers, replayBehind }) {
  return [
    '## Replay storm',
    '',
    `${count(replay.open)} of ${count(replaySubscribers)} clients connected at once to wallcast (memory) with a ` +
      `Last-Event-ID ${replayBehind} messages behind: all caught up in ${fmt(replay.seconds, 2)} s, ` +
      `${count(replay.delivered)} events delivered, lost / dup / dropped ${faults(replay)}, ` +
      `${fmt(replay.cpuSeconds, 2)} s of server CPU.`,
    '',
  ];
}
