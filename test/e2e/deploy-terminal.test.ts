/**
 * For a person at a terminal (issue 19, point 6): logs pretty on a TTY and
 * JSON lines otherwise, and `npm start` compiling only when a source changed
 * (scripts/build-if-stale.mjs). The TTY is a real pseudo-terminal, made by
 * util-linux's `script`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveLogFormat } from '../../src/logger.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'wallcast-terminal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hasScript = spawnSync('script', ['--version']).status === 0;
if (!hasScript) console.warn('skipping the TTY log tests: no `script` (util-linux) to make a terminal');

/** A process that logs the start-up line with `createLogger('info', format)` from dist/. */
const logger = join(dir, 'log-once.mjs');
writeFileSync(
  logger,
  `import { createLogger } from ${JSON.stringify(join(ROOT, 'dist/logger.js'))};
const log = createLogger('info', process.argv[2]);
log.info({ version: '0.0.0' }, 'listening on http://127.0.0.1:8080');
`,
);
/** What the logger writes, on a pipe or (through `script`) on a terminal. */
function logOnce(format: string, terminal: boolean): string {
  const run = terminal
    ? spawnSync('script', ['-qec', `${process.execPath} ${logger} ${format}`, '/dev/null'], {
        encoding: 'utf8',
        timeout: 10_000,
      })
    : spawnSync(process.execPath, [logger, format], { encoding: 'utf8', timeout: 10_000 });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout;
}
const COLOUR = '\u001b[';

describe('the log format', () => {
  it('is pretty for auto on a terminal and JSON for auto elsewhere; json and pretty mean themselves', () => {
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
  });

  it.skipIf(!hasScript)('writes a coloured line with the URL first for auto on a real terminal', () => {
    const out = logOnce('auto', true);
    expect(out).toContain(COLOUR);
    const first = out.split('\n')[0] ?? '';
    // [08:01:02] INFO: listening on http://127.0.0.1:8080, the colour codes aside.
    expect(first.replaceAll(/\u001b\[\d+m/g, '')).toMatch(
      /^\[\d\d:\d\d:\d\d\] INFO: listening on http:\/\/127\.0\.0\.1:8080\r?$/,
    );
    expect(out).not.toContain('{"level"');
  });

  it('writes one JSON object per line for auto on a pipe (a container, CI)', () => {
    const out = logOnce('auto', false);
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      level: 'info',
      version: '0.0.0',
      msg: 'listening on http://127.0.0.1:8080',
    });
  });

  it.skipIf(!hasScript)('keeps an explicit json on a terminal, and an explicit pretty on a pipe without colour', () => {
    expect(JSON.parse(logOnce('json', true).trim())).toMatchObject({ level: 'info' });
    const pretty = logOnce('pretty', false);
    expect(pretty).toContain('INFO: listening on http://127.0.0.1:8080');
    expect(pretty).not.toContain(COLOUR);
  });
});

// Each test runs tsc several times: a few seconds each on a busy 2-core machine.
describe('scripts/build-if-stale.mjs', { timeout: 120_000 }, () => {
  // A project of its own, small enough that each tsc run takes a second, not five.
  const project = join(dir, 'project');
  mkdirSync(join(project, 'src'), { recursive: true });
  writeFileSync(join(project, 'package.json'), '{ "type": "module" }\n');
  // Only ES2022's lib, no @types, no lib check: the least tsc can read.
  const compilerOptions = {
    target: 'ES2022',
    module: 'NodeNext',
    strict: true,
    outDir: 'dist',
    rootDir: 'src',
    types: [],
    lib: ['ES2022'],
    skipLibCheck: true,
  };
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['src'] }));
  writeFileSync(join(project, 'src/a.ts'), 'export const a: number = 1;\n');
  const build = (...args: string[]) =>
    spawnSync(process.execPath, [join(ROOT, 'scripts/build-if-stale.mjs'), ...args, project], {
      encoding: 'utf8',
      timeout: 60_000,
    });
  const built = (file: string) => statSync(join(project, 'dist', file), { throwIfNoEntry: false })?.mtimeMs;

  it('compiles when dist/ has no finished build, then not again until a source changes', () => {
    const first = build();
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toContain('no finished build in dist/');
    const once = built('a.js');
    expect(once).toBeDefined();

    const again = build();
    expect(again.status).toBe(0);
    expect(again.stderr).toBe('');
    expect(built('a.js')).toBe(once);
  });

  it('compiles again for an edited, an added and a removed source, and for tsconfig.json', () => {
    writeFileSync(join(project, 'src/a.ts'), 'export const a: number = 2;\n');
    expect(build().stderr).toContain('src/a.ts changed');
    writeFileSync(join(project, 'src/b.ts'), 'export const b = 1;\n');
    expect(build().stderr).toContain('changed');
    expect(existsSync(join(project, 'dist/b.js'))).toBe(true);
    unlinkSync(join(project, 'src/b.ts'));
    // The folder's time says a file went away.
    expect(build().stderr).toContain('src changed');
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { ...compilerOptions, sourceMap: true }, include: ['src'] }),
    );
    expect(build().stderr).toContain('tsconfig.json changed');
    expect(build().stderr).toBe('');
  });

  it('fails on a type error, and fails again at the next start instead of running what tsc emitted', () => {
    writeFileSync(join(project, 'src/a.ts'), 'export const a: number = "two";\n');
    const broken = build();
    expect(broken.status).not.toBe(0);
    expect(broken.stdout).toContain('TS2322');
    const still = build();
    expect(still.status).not.toBe(0);
    expect(still.stderr).toContain('no finished build');
    writeFileSync(join(project, 'src/a.ts'), 'export const a: number = 3;\n');
    expect(build().status).toBe(0);
    expect(build().stderr).toBe('');
    expect(build('--force').stderr).toContain('--force');
  });
});
