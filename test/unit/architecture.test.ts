/**
 * The module boundaries of src/, checked on the import graph (type-only
 * imports included): no cycles, no route reaching into another route, no
 * store knowing of HTTP, nothing below the HTTP layer building an HTTP
 * error (transitively), and no module over 400 lines.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = new URL('../../src/', import.meta.url).pathname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Module (path relative to src/) → the src modules it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const local = importedFiles
      .map((imported) => imported.fileName)
      .filter((name) => name.startsWith('.'))
      .map((name) => relative(SRC, resolve(dirname(file), name.replace(/\.js$/, '.ts'))));
    graph.set(relative(SRC, file), local);
  }
  return graph;
}

/** Every cycle, each as the path that closes it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    if (state.get(node) === 'done') return;
    if (state.get(node) === 'visiting') {
      found.push([...stack.slice(stack.indexOf(node)), node]);
      return;
    }
    state.set(node, 'visiting');
    stack.push(node);
    for (const next of graph.get(node) ?? []) visit(next);
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) visit(node);
  return found;
}

/** Every module `start` reaches through its imports, itself excluded. */
function reach(graph: Map<string, string[]>, start: string): Set<string> {
  const seen = new Set<string>();
  const todo = [...(graph.get(start) ?? [])];
  while (todo.length > 0) {
    const next = todo.pop() as string;
    if (seen.has(next)) continue;
    seen.add(next);
    todo.push(...(graph.get(next) ?? []));
  }
  return seen;
}

/**
 * The HTTP layer and the composition roots above it: the modules that may
 * build or map the contract's HTTP errors (errors.ts), or start what does.
 * Everything else (stores, streams, the message, the wall, configuration,
 * the cluster's channel) is below it and reports failures as its own
 * errors, which app.ts maps in one place.
 */
const HTTP_LAYER = ['app.ts', 'app-deps.ts', 'errors.ts', 'posting.ts', 'metrics.ts'];
const ROOTS = ['server.ts', 'main.ts', 'cluster/primary.ts', 'cluster/worker.ts'];

function inHttpLayer(module: string): boolean {
  return /^(routes|http|views)\//.test(module) || HTTP_LAYER.includes(module) || ROOTS.includes(module);
}

describe('module boundaries of src/', () => {
  const graph = importGraph();

  it('sees every module and resolves every local import to one', () => {
    expect(graph.size).toBeGreaterThan(20);
    for (const [module, imports] of graph) {
      for (const imported of imports) expect(graph.has(imported), `${module} imports ${imported}`).toBe(true);
    }
  });

  it('has no import cycle, type-only imports included', () => {
    expect(cycles(graph).map((cycle) => cycle.join(' → '))).toEqual([]);
  });

  it('has no route module importing another route module', () => {
    const crossings = [...graph].flatMap(([module, imports]) =>
      module.startsWith('routes/') ? imports.filter((i) => i.startsWith('routes/')).map((i) => `${module} → ${i}`) : [],
    );
    expect(crossings).toEqual([]);
  });

  it('keeps HTTP out of the stores: no store module reaches the HTTP error family, Hono or the routes', () => {
    const leaks = [...graph.keys()].flatMap((module) =>
      module.startsWith('store/')
        ? [...reach(graph, module)]
            .filter((i) => i === 'errors.ts' || i.startsWith('http/') || i.startsWith('routes/'))
            .map((i) => `${module} → … → ${i}`)
        : [],
    );
    expect(leaks).toEqual([]);
    for (const module of graph.keys()) {
      if (!module.startsWith('store/')) continue;
      expect(readFileSync(join(SRC, module), 'utf8'), module).not.toMatch(/from 'hono/);
    }
  });

  it('builds no HTTP error below the HTTP layer: no module outside it reaches errors.ts, even through others', () => {
    const leaks = [...graph.keys()]
      .filter((module) => !inHttpLayer(module))
      .filter((module) => reach(graph, module).has('errors.ts'));
    expect(leaks).toEqual([]);
  });

  it('has no module over 400 lines', () => {
    const long = [...graph.keys()]
      .map((module) => [module, readFileSync(join(SRC, module), 'utf8').split('\n').length] as const)
      .filter(([, lines]) => lines > 400)
      .map(([module, lines]) => `${module}: ${lines} lines`);
    expect(long).toEqual([]);
  });
});
