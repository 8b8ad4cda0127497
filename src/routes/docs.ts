/**
 * `GET /openapi.json`: the machine-readable description of this API.
 *
 * `docs/openapi.yaml` is written for people (comments, block text); tools
 * want JSON. It is read and parsed once, when the routes are built, so a
 * broken file stops the server at start instead of failing a request, and
 * each request costs one serialisation of a document that never changes.
 */
import { readFileSync } from 'node:fs';
import { Hono } from 'hono';
import { parse } from 'yaml';
import type { AppEnv } from '../app-deps.js';

/** Relative to this module, as pages.ts finds public/: the same from src/ (tests) and dist/ (production). */
const OPENAPI_YAML = new URL('../../docs/openapi.yaml', import.meta.url);

/** The document changes only with a deploy: shared caches may keep it a little. */
const CACHE_CONTROL = 'public, max-age=300';

export function docsRoutes(): Hono<AppEnv> {
  const document: unknown = parse(readFileSync(OPENAPI_YAML, 'utf8'));
  const json = JSON.stringify(document);
  return new Hono<AppEnv>().get('/openapi.json', (c) => {
    c.header('Cache-Control', CACHE_CONTROL);
    c.header('Content-Type', 'application/json; charset=utf-8');
    return c.body(json);
  });
}
