// @ts-check
// What a run measures at which scale: the command line (--quick, --full,
// --only) turned into one typed Settings, read by the scenarios and by the
// report alike, so that the report's prose states this run's parameters.

/**
 * @typedef {'default' | 'quick' | 'full'} Mode
 *
 * @typedef {object} Settings
 * @property {Mode} mode
 * @property {Set<string> | undefined} only `--only a,b`: the scenario keys to run; a partial run writes no report
 * @property {number[]} steadyScales subscriber counts, largest first: a smaller scale is the same server with streams closed
 * @property {number[]} burstScales
 * @property {number[]} idleScales idle memory is read before the first post, at each of these counts
 * @property {number} peerScale better-sse, Hono, and the SQLite and Redis stores: one steady scale, compared with wallcast's at the same count
 * @property {number[]} rawSteadyScales the raw broadcaster is the kernel floor's reference: at the largest scale and the peers'
 * @property {number[]} peerBurstScales the Node peers' bursts (see PEER_BURST_SCALES_FULL)
 * @property {number} fullScale --full: the largest wall one process can hold
 * @property {number} memoryScale the scale the idle-memory targets are set at
 * @property {number} heapStreams streams of the heap-snapshot breakdown
 * @property {number} replaySubscribers
 * @property {number} replayBehind messages a replay-storm client is behind
 * @property {number} burstPosts posts per burst
 * @property {number} burstPosters concurrent posters in a burst
 * @property {number} steadyRate posts/s
 * @property {number} steadySeconds
 * @property {number} throughputSeconds
 * @property {number} throughputWarmupMs
 * @property {number} throughputPosters
 * @property {number} warmupPosts
 * @property {number} steadyDrainMs
 * @property {number} burstDrainMs
 * @property {number[]} workerSteadyScales issue 20: wallcast with 2 workers and nchan with 2, against their one-process ladders
 * @property {number[]} workerBurstScales
 * @property {number} presenceScale issue 17: the streams on the wall, each its own person
 * @property {number} churnRate streams a second that connect and disconnect beside them
 * @property {number} churnLifetimeMs how long each churning stream stays
 * @property {number} churnLeadMs the churn runs this long before the posts start, so that they meet it at its steady state
 * @property {number} presenceGraceMs the server's WALLCAST_PRESENCE_GRACE_MS in the presence scenario
 * @property {number} agreementTimeoutMs how long the streams' presence counts may take to agree with the streams open
 * @property {number} agreementHoldMs once agreed, how long they must stay so
 */

/**
 * --full: the largest wall one process can hold. The hard limit is 20,000
 * open files per process; 19,000 streams leave room for the listen socket,
 * the posters' keep-alive connections, stdio and the store.
 */
const FULL_SCALE = 19_000;
/**
 * The raw broadcaster, better-sse and Hono deliver 14,000 to 50,000 events/s:
 * a burst at 2,000 (1,000,000 deliveries) takes each of them 20 s to over a
 * minute, more than the default run's budget, so that one is in --full only.
 * nchan, the baseline of the burst targets, runs both in every mode.
 */
const PEER_BURST_SCALES_FULL = [2000, 500];

/**
 * `--quick`, `--full`, `--only a,b` or `--only=a,b`.
 * @param {string[]} argv process.argv
 * @returns {Settings}
 */
export function settingsFrom(argv) {
  const quick = argv.includes('--quick');
  const full = !quick && argv.includes('--full');
  const at = argv.findIndex((arg) => arg === '--only' || arg.startsWith('--only='));
  const arg = argv[at] ?? '';
  const only = at === -1 ? undefined : arg.includes('=') ? arg.slice('--only='.length) : argv[at + 1];
  return {
    mode: quick ? 'quick' : full ? 'full' : 'default',
    only: only === undefined ? undefined : new Set(only.split(',')),
    steadyScales: quick ? [1000] : [10_000, 2000, 1000],
    burstScales: quick ? [500] : [2000, 500],
    idleScales: quick ? [1000] : [2000, 10_000],
    peerScale: quick ? 1000 : 2000,
    rawSteadyScales: quick ? [1000] : [10_000, 2000],
    peerBurstScales: full ? PEER_BURST_SCALES_FULL : [500],
    fullScale: FULL_SCALE,
    memoryScale: quick ? 1000 : 10_000,
    // Enough that per-stream bytes stand out of the fixed ones.
    heapStreams: quick ? 500 : 2000,
    replaySubscribers: quick ? 1000 : 10_000,
    replayBehind: 100,
    // --quick: fewer posts per burst for every server alike, so that the slow peers keep the smoke run short.
    burstPosts: quick ? 200 : 500,
    burstPosters: 8,
    steadyRate: 5,
    steadySeconds: quick ? 4 : 8,
    throughputSeconds: quick ? 1 : 3,
    // A fresh Node process runs its post path unoptimised at first: this long of posting is not counted, for every server.
    throughputWarmupMs: 1000,
    throughputPosters: 32,
    // Posts before a server's first measured scenario, not counted (their seq is -1, which no pattern
    // matches): the fan-out loop gets optimised before it is timed, for every server alike.
    warmupPosts: 10,
    // Steady events arrive within milliseconds; this only bounds a server that lost some.
    steadyDrainMs: 10_000,
    // Long enough for the slowest peer (Hono, about 13,000 deliveries/s) to deliver a whole burst at 2,000.
    burstDrainMs: 120_000,
    // Issue 20 names these scales: steady at 10,000, the burst beside it at 2,000 as the one-process ladders run it.
    workerSteadyScales: quick ? [1000] : [10_000],
    workerBurstScales: quick ? [500] : [2000],
    // Issue 17 names these: 10,000 streams, 100 a second coming and going.
    presenceScale: quick ? 1000 : 10_000,
    churnRate: 100,
    // About `churnRate` churning streams open at once: the wall's count moves by a few every second.
    churnLifetimeMs: 1000,
    churnLeadMs: 1000,
    // The server's default grace is 10 s; a process that starts reports no presence for one grace (API.md,
    // Presence), and a churned person is counted for one grace after leaving. 1 s keeps both short.
    presenceGraceMs: 1000,
    agreementTimeoutMs: 15_000,
    // Longer than one emission window (1 s): a count that was about to change again would have.
    agreementHoldMs: 1500,
  };
}

/** The command that makes a run of this mode, as the report names it. */
export function commandOf(/** @type {Settings} */ settings) {
  return settings.mode === 'quick'
    ? 'node bench/run.mjs --quick'
    : settings.mode === 'full'
      ? 'node bench/run.mjs --full'
      : 'npm run bench';
}
