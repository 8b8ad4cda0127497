#!/usr/bin/env node
/**
 * Process entry: config → server (store, hub, app) → signals. With
 * WALLCAST_WORKERS above 1, this process is the primary (the store, no HTTP)
 * and forks workers that run this same file (cluster/).
 * Run it with node directly (not through npm) so that SIGTERM reaches it.
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { MINT_TOKEN_USAGE, mintToken } from './auth/mint-token.js';
import { startPrimary } from './cluster/primary.js';
import { startWorker } from './cluster/worker.js';
import { type Config, loadConfig, settingsHelp, settingsSummary, unknownVariables } from './config.js';
import { ConfigError } from './config-values.js';
import { createLogger } from './logger.js';
import { startedByPackageManager, watchParent } from './parent-watch.js';
import { startServer } from './server.js';
import { cursorOrder } from './store/create-store.js';
import { StoreOpenError } from './store/store.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const USAGE = `wallcast ${version}: a message wall server. Post over HTTP, watch live over Server-Sent Events.

Usage: wallcast [--setting value ...]
       wallcast token --sub ID [--name NAME] [--read W] [--post W] [--moderate W] [--ttl 1h]

Every setting is an environment variable, or the same as a flag: the name
without WALLCAST_, in kebab case (WALLCAST_HISTORY=500 is --history 500).
Flags win over the environment.

Settings:
${settingsHelp()}

  --help, -h      this text
  --version, -v   the version

\`wallcast token --help\` tells how to print a token signed with WALLCAST_JWT_SECRET.
`;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === 'token') {
    await printToken(argv.slice(1));
    return;
  }
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
  if (cluster.isWorker) {
    const worker = log.child({ worker: Number(process.env.WALLCAST_WORKER_INDEX) });
    await startWorker(config, cursorOrder(config.store), worker);
    return;
  }
  // Signals are handled from the start: one during a start that waits (on a Redis that does not answer, say) ends it.
  const stopper = stopOnSignals(log);
  let running: { url: string; metricsUrl: string | undefined; close(): Promise<void> };
  try {
    if (config.workers > 1) {
      const machine = await startPrimary(config, config.workers, log);
      machine.failed.then((code) => process.exit(code));
      running = machine;
    } else {
      running = await startServer(config, { log });
    }
  } catch (error) {
    if (error instanceof StoreOpenError) {
      console.error(`wallcast: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  stopper.serving(running);
  // The signals are handled from here: whoever waits for this line may signal the process at once.
  log.info({ version, url: running.url, metrics: running.metricsUrl }, `listening on ${running.url}`);
  log.info({ workers: config.workers, settings: settingsSummary(config) }, 'settings');
  const unknown = unknownVariables(process.env);
  if (unknown.length > 0) {
    log.warn({ variables: unknown }, 'these WALLCAST_* variables are no setting and are ignored (a typo?)');
  }
}

/** `wallcast token …`: a token to try private walls with (issue 16), or why not, on stderr. */
async function printToken(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(MINT_TOKEN_USAGE);
    return;
  }
  const minted = await mintToken(argv, process.env);
  if ('error' in minted) {
    console.error(`wallcast token: ${minted.error}`);
    process.exit(2);
  }
  process.stdout.write(`${minted.output}\n`);
}

/**
 * Slightly more than the server's own drain deadline (server.ts, and the
 * primary's for its workers): shutdown ends by then whatever the store is
 * doing (a Redis that does not answer, say). Everything a client was told
 * is stored was stored before it was told, so nothing acknowledged is lost.
 */
const EXIT_DEADLINE_MS = 10_000;

/**
 * SIGTERM or SIGINT drains, then exits 0; a second signal, or the
 * deadline, ends the process at once. A signal before the server is
 * serving (a start waiting on its store) exits 0 at once: nothing was
 * served, so nothing needs draining.
 */
function stopOnSignals(log: Logger): { serving(running: { close(): Promise<void> }): void } {
  let running: { close(): Promise<void> } | undefined;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now, without waiting for the drain');
      process.exit(1);
    }
    stopping = true;
    if (running === undefined) {
      log.info({ signal }, 'stopped before serving');
      process.exit(0);
    }
    log.info({ signal }, 'draining');
    setTimeout(() => {
      log.warn('shutdown: still not done at the deadline; exiting');
      process.exit(0);
    }, EXIT_DEADLINE_MS).unref();
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Under npm or npx, a SIGTERM reaches npm, not this process: npm gone is the signal (parent-watch.ts).
  if (startedByPackageManager(process.env)) watchParent((parentPid) => stop(`parent ${parentPid} exited`));
  return {
    serving: (server) => {
      running = server;
    },
  };
}

main().catch((error: unknown) => {
  console.error(`wallcast: could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
