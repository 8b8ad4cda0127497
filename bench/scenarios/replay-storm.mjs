// @ts-check
// The replay storm: every client reconnects at once with a Last-Event-ID
// `replayBehind` messages back, as after a restart, on wallcast (memory).

import { targetOf } from '../loadgen-client.mjs';
import { micros, settle, totalMicros } from '../processes.mjs';
import { withServer } from './measures.mjs';

/** How long the slowest client may take to catch up before the storm counts what it has. */
const STORM_DRAIN_MS = 30_000;

/** @type {import('./scenario.mjs').Scenario} */
export const replayStorm = {
  key: 'replay',
  run: async (bench, results) => {
    const { loadgen, settings } = bench;
    const { replaySubscribers, replayBehind } = settings;
    bench.log(`wallcast (memory): replay storm (${replaySubscribers} × ${replayBehind} behind)`);
    results.replay = await withServer(
      () => bench.servers.wallcast(),
      loadgen,
      async (server, agent) => {
        const marker = JSON.parse((await server.post(agent, `-1:${micros()}`)).text);
        for (let i = 0; i < replayBehind; i++) await server.post(agent, `${i}:${micros()}`);
        const target = { ...targetOf(server), headers: { 'Last-Event-ID': marker.cursor } };
        await settle(server.meter);
        const cpuBefore = totalMicros(server.meter);
        const { open, startedMicros } = await loadgen.call('storm', { target, count: replaySubscribers });
        const { lastReceiveMicros } = await loadgen.call('drain', {
          expected: replayBehind,
          timeoutMs: STORM_DRAIN_MS,
        });
        /** @type {import('../loadgen-client.mjs').Stats} */
        const stats = await loadgen.call('stats', { expected: replayBehind });
        const cpu = totalMicros(server.meter) - cpuBefore;
        return { open, ...stats, seconds: (lastReceiveMicros - startedMicros) / 1e6, cpuSeconds: cpu / 1e6 };
      },
    );
  },
};
