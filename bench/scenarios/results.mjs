// @ts-check
// What a run measured, as the scenarios leave it and the report reads it:
// the report depends on these types only, never on how a scenario runs.
// A new scenario adds its figures' type here and its field to Results.

/**
 * @typedef {import('../loadgen-client.mjs').Stats} Stats
 *
 * @typedef {Stats & { posts: number, cpuPerDelivery: number, userPerDelivery: number, sysPerDelivery: number, clientCores: number }} Steady
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
 * @typedef {object} Results
 * @property {Record<string, Ladder>} ladders by scenario key, in the order run: every ladder's figures
 *   appear in the Steady, Burst and Idle memory tables
 * @property {Replay} [replay]
 * @property {string[]} [heap] bench/stream-heap.mjs's table: where an idle stream's heap goes
 * @property {Record<string, Throughput>} throughput by server key
 */

/** @returns {Results} */
export const emptyResults = () => ({ ladders: {}, throughput: {} });
