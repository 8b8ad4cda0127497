import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../app-deps.js';

/** Health, readiness and (unless it has a port of its own) Prometheus metrics. */
export function opsRoutes(deps: AppDeps): Hono<AppEnv> {
  const { store, metrics, config } = deps;
  const routes = new Hono<AppEnv>();

  /** Not ready: the contract's error, and the probe's `status` beside it. */
  const notReady = (status: string, message: string) => ({ status, error: { code: 'unavailable', message } });

  routes.get('/healthz', (c) => c.json({ status: 'ok' }));
  routes.get('/readyz', async (c) => {
    if (deps.lifecycle.draining) {
      return c.json(notReady('draining', 'The server is shutting down.'), 503, { 'Retry-After': '1' });
    }
    const ready = await store.isReady().catch(() => false);
    if (ready) return c.json({ status: 'ready' });
    return c.json(notReady('store unavailable', 'The message store does not answer.'), 503, { 'Retry-After': '1' });
  });
  if (config.metricsPort === undefined) {
    routes.get('/metrics', async (c) => c.body(await metrics.text(), 200, metrics.headers()));
  }
  return routes;
}
