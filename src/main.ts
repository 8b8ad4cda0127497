/**
 * Process entry: config → server (store, hub, app) → signals.
 * Run it with node directly (not through npm) so that SIGTERM reaches it.
 */
import { type Config, ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { type RunningServer, startServer } from './server.js';
import { redactUrl } from './store/create-store.js';
import { StoreOpenError } from './store/store.js';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env, process.argv.slice(2));
  } catch (error) {
    if (error instanceof ConfigError) {
      // Before logging is set up (its level is configuration too): one plain line.
      console.error(`wallcast: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const log = createLogger(config.logLevel);
  let running: RunningServer;
  try {
    running = await startServer(config, { log });
  } catch (error) {
    if (error instanceof StoreOpenError) {
      console.error(`wallcast: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  const stop = (signal: string) => {
    log.info({ signal }, 'draining');
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  // Last: whoever waits for this line may signal the process at once.
  log.info({ store: redactUrl(config.store) }, `listening on ${running.url}`);
}

main().catch((error: unknown) => {
  console.error(`wallcast: could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
