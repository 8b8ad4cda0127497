// @ts-check
// What a scenario is: a key (the one `--only` names), and a run that measures
// and puts its figures into the run's Results (results.mjs), where the report
// reads them. bench/run.mjs runs the scenarios one after another, in the
// order it lists them, on one load generator; nothing else runs meanwhile,
// so every ratio compares figures of the same run on the same machine.

/**
 * @typedef {object} Bench what every scenario gets
 * @property {import('../settings.mjs').Settings} settings
 * @property {import('../servers.mjs').Servers} servers the starters of the servers under test
 * @property {import('../loadgen-client.mjs').Loadgen} loadgen the subscribers, in their own process
 * @property {boolean} haveNchan nginx and the nchan module are installed
 * @property {string} root the repository
 * @property {(line: string) => void} log a progress line, with the seconds since the run started
 *
 * @typedef {object} Scenario
 * @property {string} key what `--only` names it by
 * @property {(bench: Bench, results: import('./results.mjs').Results) => Promise<void>} run measures, and stores
 *   its figures in `results`
 */

export {};
