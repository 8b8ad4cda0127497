// @ts-check
// Where an idle stream's heap goes: bench/stream-heap.mjs, a process of its
// own (wallcast and two heap snapshots, the clients in a child), whose table
// of bytes per stream by constructor the report prints.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** Bounds a stream-heap run that hangs (it usually takes a few seconds); its table then says it failed. */
const HEAP_TIMEOUT_MS = 120_000;

/** @type {import('./scenario.mjs').Scenario} */
export const idleHeap = {
  key: 'heap',
  run: async (bench, results) => {
    bench.log('heap snapshots of idle streams');
    const run = spawnSync(
      process.execPath,
      ['--expose-gc', join(bench.root, 'bench', 'stream-heap.mjs'), String(bench.settings.heapStreams)],
      { encoding: 'utf8', timeout: HEAP_TIMEOUT_MS, env: { ...process.env, KEEP_SNAPSHOT: '' } },
    );
    const lines = run.stdout.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('{'));
    if (run.status !== 0) lines.push(`(stream-heap exited ${run.status}: ${run.stderr.trim().split('\n')[0]})`);
    results.heap = lines;
  },
};
