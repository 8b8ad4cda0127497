#!/usr/bin/env node
/**
 * Process entry: config → server (store, hub, app) → signals.
 * Run it with node directly (not through npm) so that SIGTERM reaches it.
 */
import { readFileSync } from 'node:fs';
import { type Config, ConfigError, loadConfig, settingsHelp, settingsSummary, unknownVariables } from './config.js';
import { createLogger } from './logger.js';
import { startedByPackageManager, watchParent } from './parent-watch.js';
import { type RunningServer, startServer } from './server.js';
import { StoreOpenError } from './store/store.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const USAGE = `wallcast ${version}: a message wall server. Post over HTTP, watch live over Server-Sent Events.

Usage: wallcast [--setting value ...]

Every setting is an environment variable, or the same as a flag: the name
without WALLCAST_, in kebab case (WALLCAST_HISTORY=500 is --history 500).
Flags win over the environment.

Settings:
${settingsHelp()}

  --help, -h      this text
  --version, -v   the version
`;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  if (argv.includes('--version') || argv.includes('-v')) {
    process.stdout.write(`${version}\n`);
    return;
  }
  let config: Config;
  try {
    config = loadConfig(process.env, argv);
  } catch (error) {
    if (error instanceof ConfigError) {
      // Before logging is set up (its level is configuration too): one plain line.
      console.error(`wallcast: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const log = createLogger(config.logLevel, config.logFormat);
  const unknown = unknownVariables(process.env);
  if (unknown.length > 0)
    log.warn({ variables: unknown }, 'these WALLCAST_* variables are no setting and are ignored (a typo?)');
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
  // Under `npx wallcast` or `npm start`, npm's SIGTERM never reaches us: drain when npm has gone.
  if (startedByPackageManager(process.env)) watchParent((parentPid) => stop(`parent ${parentPid} exited`));
  // Last: whoever waits for this line may signal the process at once.
  log.info({ version, settings: settingsSummary(config), metrics: running.metricsUrl }, `listening on ${running.url}`);
}

main().catch((error: unknown) => {
  console.error(`wallcast: could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
