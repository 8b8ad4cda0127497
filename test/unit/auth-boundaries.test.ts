/**
 * The auth module knows nothing of HTTP responses (issue 16): nothing in
 * src/auth imports the HTTP error family, Hono, the routes or http/, even
 * through another module, so it can be used and tested on its own.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = new URL('../../src/', import.meta.url).pathname;

/** Every import of `module` (relative to src/), followed through src/, packages included by name. */
function reach(module: string, seen = new Set<string>()): Set<string> {
  if (seen.has(module)) return seen;
  seen.add(module);
  if (!module.endsWith('.ts')) return seen;
  const { importedFiles } = ts.preProcessFile(readFileSync(join(SRC, module), 'utf8'), true, true);
  for (const { fileName } of importedFiles) {
    const next = fileName.startsWith('.')
      ? relative(SRC, resolve(dirname(join(SRC, module)), fileName.replace(/\.js$/, '.ts')))
      : fileName;
    reach(next, seen);
  }
  return seen;
}

describe('the auth module boundary', () => {
  const modules = readdirSync(join(SRC, 'auth')).map((name) => `auth/${name}`);

  it('has its modules', () => {
    expect(modules.length).toBeGreaterThan(10);
  });

  it('reaches neither errors.ts, Hono, routes/ nor http/, even transitively', () => {
    const leaks = modules.flatMap((module) =>
      [...reach(module)]
        .filter(
          (m) =>
            m === 'errors.ts' ||
            m.startsWith('hono') ||
            m.startsWith('@hono') ||
            m.startsWith('routes/') ||
            m.startsWith('http/'),
        )
        .map((m) => `${module} → ${m}`),
    );
    expect(leaks).toEqual([]);
  });
});
