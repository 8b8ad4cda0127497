import { createServer, type Server } from 'node:http';
import type { Config } from '../config.js';

/** `/metrics` on a port of its own (WALLCAST_METRICS_PORT), kept off the public one. */
export async function serveMetrics(
  config: Config,
  metrics: { text(): Promise<string>; headers(): Record<string, string> },
): Promise<Server> {
  const server = createServer(async (req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Only /metrics is served here.\n');
      return;
    }
    const text = await metrics.text();
    res.writeHead(200, { ...metrics.headers(), 'X-Content-Type-Options': 'nosniff' }).end(text);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: config.metricsPort, host: config.host }, () => resolve());
  });
  return server;
}
