#!/usr/bin/env node
// @ts-check
// Compiles TypeScript only when something it reads changed, so that
// `npm start` with nothing changed starts in about a second, not after a
// 5–8 s `tsc` (issue 19).
//
//   node scripts/build-if-stale.mjs           compile when stale, else nothing
//   node scripts/build-if-stale.mjs --force   compile (what `npm run build` does)
//   node scripts/build-if-stale.mjs DIR       the same for the project in DIR (tests)
//
// Stale means: no stamp from a build that succeeded, or a file or folder under
// src/ (a folder's time changes when a file in it is added, removed or
// renamed), tsconfig.json or package.json (its "type" decides the emitted
// module kind) is as new as the stamp or newer. The stamp is dist/.build-stamp,
// given the time the build *started*, so an edit made while tsc ran counts as
// a change next time. A build that fails (type errors) leaves no stamp, so
// the next start compiles again and fails the same way instead of running
// what tsc emitted anyway. Why not `tsc --incremental`: with nothing changed
// it still reads and parses every source and .d.ts (about 2 s here); `tsc -b`
// checks in 0.3 s but needs a build-info file in the repo root and
// `incremental` in tsconfig.json.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';

const args = process.argv.slice(2);
const force = args.includes('--force');
const root = resolve(args.find((arg) => !arg.startsWith('--')) ?? new URL('..', import.meta.url).pathname);
const stamp = join(root, 'dist', '.build-stamp');

/** The newest input and its time, walking src/ (files and folders) and the two config files. */
function newestInput() {
  let newest = { path: '', mtimeMs: 0 };
  const look = (/** @type {string} */ path) => {
    const stats = statSync(path, { throwIfNoEntry: false });
    if (stats === undefined) return;
    if (stats.mtimeMs > newest.mtimeMs) newest = { path, mtimeMs: stats.mtimeMs };
    if (stats.isDirectory()) for (const entry of readdirSync(path)) look(join(path, entry));
  };
  look(join(root, 'src'));
  look(join(root, 'tsconfig.json'));
  look(join(root, 'package.json'));
  return newest;
}

/** Why a build is needed, or undefined when dist/ is up to date. */
function staleBecause() {
  if (force) return 'asked to (--force)';
  const built = statSync(stamp, { throwIfNoEntry: false });
  if (built === undefined) return 'no finished build in dist/';
  const newest = newestInput();
  if (newest.mtimeMs >= built.mtimeMs) return `${relative(root, newest.path)} changed since the last build`;
  return undefined;
}

const reason = staleBecause();
if (reason !== undefined) {
  process.stderr.write(`build-if-stale: ${reason}: compiling (tsc -p ${relative(process.cwd(), root) || '.'})\n`);
  const startedMs = Date.now();
  rmSync(stamp, { force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', root], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeFileSync(stamp, 'the time of this file is when the last successful build started\n');
  utimesSync(stamp, startedMs / 1000, startedMs / 1000);
}
