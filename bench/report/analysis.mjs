// @ts-check
// BENCHMARKS.md has two parts. Above the marker line: what this run measured,
// written by bench/run.mjs, every figure from this run. Below it: analysis
// written by hand (profiles, one-off experiments, why a target is missed and
// what would close it), each part dated with the run it quotes. A run
// rewrites the first part and keeps the second byte for byte, so that no
// figure of an earlier run is ever reprinted as if this run had measured it.

/** The line between the two parts: an HTML comment, so it does not show when the Markdown is rendered. */
export const MARKER =
  '<!-- Hand-written below this line: node bench/run.mjs rewrites everything above it and keeps everything below it as it is. -->';

/**
 * The headings of the hand-written part that the generated part links to
 * (a missed target, the heap table). A heading renamed there is renamed here.
 */
export const ANALYSIS = {
  steadyCpu: 'Steady CPU per delivery against nchan',
  steadyP99: 'Steady p99 latency against nchan',
  burst: 'Bursts against nchan',
  idleMemory: 'Idle memory per stream',
  storeSteady: 'Stores: steady CPU per delivery',
  sqliteBurst: 'SQLite store: bursts',
  redisBurst: 'Redis store: bursts',
  memoryPosts: 'Memory store: post throughput',
  sqlitePosts: 'SQLite store: post throughput',
  workers: 'Workers against one process',
  presenceCpu: 'Presence: CPU per delivery under churn',
};

/** What a BENCHMARKS.md without a hand-written part gets below the marker. */
const EMPTY_ANALYSIS = `
## Analysis (hand-written)

Nothing written yet. Each part here says when it was written and which run's figures it quotes.
`;

/**
 * The new BENCHMARKS.md: this run's report, the marker, and the hand-written
 * part of the file as it was (every line after the marker, untouched).
 * @param {string} generated this run's report
 * @param {string | undefined} previous the file as it is, if there is one
 */
export function withAnalysis(generated, previous) {
  return `${generated}${MARKER}\n${handWritten(previous) ?? EMPTY_ANALYSIS}`;
}

/**
 * The lines after the marker, or undefined when there is no marker.
 * @param {string | undefined} text
 */
function handWritten(text) {
  const lines = text?.split('\n') ?? [];
  const at = lines.indexOf(MARKER);
  return at === -1 ? undefined : lines.slice(at + 1).join('\n');
}

/**
 * The analysis headings the generated part links to that the hand-written
 * part lacks: the links would lead nowhere.
 * @param {string} text the whole BENCHMARKS.md
 */
export function missingHeadings(text) {
  const headings = new Set(
    (handWritten(text) ?? '')
      .split('\n')
      .filter((line) => /^#{2,6} /.test(line))
      .map((line) => line.replace(/^#+ /, '').trim()),
  );
  return Object.values(ANALYSIS).filter((heading) => !headings.has(heading));
}
