// @ts-check
// Where an idle stream's heap goes: bench/stream-heap.mjs's table as it
// printed it. What the constructors are is read in the hand-written analysis.
import { ANALYSIS } from './analysis.mjs';
import { anchorOf } from './format.mjs';

/** The table's rows shown: the rest are a few bytes per stream each. */
const HEAP_ROWS = 24;

/**
 * @param {string[]} heap stream-heap.mjs's lines: a title, the columns, the rows
 * @param {import('../settings.mjs').Settings} settings
 */
export function heapSection(heap, { heapStreams }) {
  const [title, columns, ...rows] = heap;
  return [
    "## Where an idle stream's heap goes",
    '',
    `\`node --expose-gc bench/stream-heap.mjs ${heapStreams}\`: wallcast (memory store) in one process, ` +
      'the clients in another; two heap snapshots, before and after the streams opened, grouped by constructor ' +
      `(self size, bytes and objects per stream). ${title ?? ''}`,
    '',
    '```',
    columns ?? '',
    ...rows.slice(0, HEAP_ROWS),
    '```',
    '',
    `Which of these are wallcast's own and which Node's: [${ANALYSIS.idleMemory}](${anchorOf(ANALYSIS.idleMemory)}) ` +
      'in the hand-written analysis below.',
    '',
  ];
}
