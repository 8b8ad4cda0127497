/** A real wallcast server in the test process, on port 0. */
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { type RunningServer, startServer } from '../../src/server.js';
import type { MessageStore } from '../../src/store/store.js';

/**
 * Starts the whole server (memory store unless `env` names another) on a
 * free port. Its log is silent unless WALLCAST_LOG_LEVEL is set for the run.
 */
export async function startTestServer(env: Record<string, string> = {}, store?: MessageStore): Promise<RunningServer> {
  const log = createLogger(process.env.WALLCAST_LOG_LEVEL ?? 'silent');
  return startServer(loadConfig({ PORT: '0', WALLCAST_STORE: 'memory', ...env }), { store, log });
}
