import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../app-deps.js';

/** Health, readiness and Prometheus metrics. */
export function opsRoutes(deps: AppDeps): Hono<AppEnv> {
  const { store, hub, metrics } = deps;
  const routes = new Hono<AppEnv>();

  routes.get('/healthz', (c) => c.json({ status: 'ok' }));
  /** Not ready: the contract's error, and the probe's `status` beside it. */
  const notReady = (status: string, message: string) => ({ status, error: { code: 'unavailable', message } });
  routes.get('/readyz', async (c) => {
    if (deps.lifecycle.draining) {
      return c.json(notReady('draining', 'The server is shutting down.'), 503, { 'Retry-After': '1' });
    }
    const ready = await store.isReady().catch(() => false);
    if (ready) return c.json({ status: 'ready' });
    return c.json(notReady('store unavailable', 'The message store does not answer.'), 503, { 'Retry-After': '1' });
  });
  routes.get('/metrics', (c) => {
    const stats = hub.stats();
    const lines = [
      ['wallcast_subscribers', 'gauge', 'Open event streams.', stats.subscribers],
      ['wallcast_posts_total', 'counter', 'Messages accepted.', metrics.posts],
      ['wallcast_posts_failed_total', 'counter', 'Posts refused because the store failed.', metrics.postsRejected],
      ['wallcast_deliveries_total', 'counter', 'Live events written to streams.', stats.deliveries],
      [
        'wallcast_slow_client_disconnects_total',
        'counter',
        'Streams closed for falling behind.',
        stats.slowDisconnects,
      ],
      ['wallcast_streams_opened_total', 'counter', 'Event streams opened.', metrics.streamsOpened],
      ['wallcast_replays_total', 'counter', 'Streams that resumed from a cursor.', metrics.replays],
      ['wallcast_resets_total', 'counter', 'Resumes answered with a reset.', metrics.resets],
    ] as const;
    const text = lines
      .map(([name, type, help, value]) => `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${value}\n`)
      .join('');
    return c.text(text, 200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
  });
  return routes;
}
