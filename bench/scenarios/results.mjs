// @ts-check
// What a run measured, as the scenarios leave it and the report reads it:
// the report depends on these types only, never on how a scenario runs.
// A new scenario adds its figures' type here and its field to Results.

/**
 * @typedef {import('../loadgen-client.mjs').Stats} Stats
 *
 * @typedef {Stats & { posts: number, cpuPerDelivery: number, userPerDelivery: number, sysPerDelivery: number, serverCores: number, clientCores: number, otherCores: number, writesPerDelivery?: number, passMs?: number }} Steady
 *   serverCores, clientCores and otherCores: the CPU of the server's processes, of the load generator and of
 *   everything else on the machine (the run's posting too) over the posts' window, in cores;
 *   writesPerDelivery: wallcast's, from its /metrics (below 1 when a pass ran late and joined events);
 *   passMs: wallcast's mean time from a message's post to the last write of its pass, from its /metrics
 *   (the server's side of a delivery's latency, without the subscribers' reading)
 * @typedef {Stats & { seconds: number, deliveriesPerSecond: number, cpuPerDelivery: number, writesPerDelivery?: number }} Burst
 * @typedef {{ open: number, bytesPerStream: number, rss: number }} Idle
 *
 * @typedef {object} Ladder one server's idle, steady and burst figures, on one process (scenarios/ladders.mjs)
 * @property {string} name the server's
 * @property {boolean} wallcast wallcast's own: its steady and burst runs count in "every wallcast scenario: 0 lost"
 * @property {Record<number, Idle>} idle by streams
 * @property {Record<number, Steady>} steady by streams
 * @property {Record<number, Burst>} burst by streams
 * @property {string} [error] why the ladder stopped, if it did
 *
 * @typedef {Stats & { open: number, seconds: number, cpuSeconds: number }} Replay
 * @typedef {{ postsPerSecond: number, refused: number } | { error: string }} Throughput
 *
 * @typedef {object} Agreement whether every open stream's last presence count was the number of streams open
 * @property {number} open the streams open, and so the right count
 * @property {boolean} agreed every one heard it, within the timeout
 * @property {boolean} stable and it stayed so for the hold (no later event changed it)
 * @property {number} seconds from when it was measured until the last stream heard it (NaN if never)
 * @property {[number, number][]} heard the counts the streams heard last, with how many heard each, most first
 *
 * @typedef {object} PresenceRun one of the presence scenario's two runs (scenarios/presence.mjs)
 * @property {{ opened: number, failed: number, seconds: number }} churn the churning streams, and those refused or never answered
 * @property {Agreement} [initial] with presence: once the streams connected and the start's grace was over
 * @property {Agreement} [after] with presence: from the last churning stream's close
 *
 * @typedef {object} Presence issue 17's scenario: its parameters and its two runs, by ladder key
 *   (their steady figures are in `ladders`)
 * @property {number} streams
 * @property {number} churnRate streams a second
 * @property {number} churnLifetimeMs
 * @property {number} graceMs the server's WALLCAST_PRESENCE_GRACE_MS
 * @property {Record<string, PresenceRun>} runs
 *
 * @typedef {object} Results
 * @property {Record<string, Ladder>} ladders by scenario key, in the order run: every ladder's figures
 *   appear in the Steady, Burst and Idle memory tables
 * @property {Replay} [replay]
 * @property {Presence} [presence]
 * @property {string[]} [heap] bench/stream-heap.mjs's table: where an idle stream's heap goes
 * @property {Record<string, Throughput>} throughput by server key
 */

/**
 * Where issue 20's and issue 17's scenarios leave their ladders in `Results.ladders`: the workers
 * ladders (`workers` and `nchan-workers` are also their scenarios' --only keys), and the presence
 * scenario's two runs.
 */
export const WORKER_LADDERS = { wallcast: 'workers', nchan: 'nchan-workers' };
export const PRESENCE_LADDERS = { off: 'presence-off', on: 'presence' };

/** @returns {Results} */
export const emptyResults = () => ({ ladders: {}, throughput: {} });
