/**
 * Process entry: config → server (store, hub, app) → signals.
 * Run it with node directly (not through npm) so that SIGTERM reaches it.
 */
import { ConfigError, loadConfig } from './config.js';
import { startServer } from './server.js';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env, process.argv.slice(2));
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`wallcast: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const running = await startServer(config);
  console.log(`wallcast: listening on ${running.url} (store ${config.store})`);

  const stop = (signal: string) => {
    console.log(`wallcast: ${signal}, draining`);
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`wallcast: shutdown failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(`wallcast: could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
