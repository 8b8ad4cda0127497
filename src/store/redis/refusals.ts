import { StoreUnavailableError } from '../store.js';

/** How long a client waits before trying again when Redis did not answer. */
export const RETRY_AFTER_SECONDS = 2;

/**
 * Whether a failed Redis command surely did not run (issue 19: "errors say
 * the truth"). A refusal Redis sends before it runs anything, or an error
 * ioredis raises before it sends anything, is certain: nothing was stored.
 * Anything else (a timeout, a connection lost with the command in flight,
 * an error from inside a script) may have run, and only an idempotent retry
 * is safe.
 */

/**
 * Replies Redis gives instead of running a command: redirections and a
 * cluster that is down or resharding, a replica asked to write (a demoted
 * primary: Sentinel moved it), a server loading its data or refusing
 * writes, keys of two slots (`CROSSSLOT`), and authentication.
 */
const REFUSED =
  /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN|CROSSSLOT|READONLY|LOADING|MASTERDOWN|NOREPLICAS|BUSY|MISCONF|NOAUTH|NOPERM|WRONGPASS)\b/;

/** ioredis's own errors for a command it did not send: no connection, and no queue to wait in. */
const NOT_SENT = /enableOfflineQueue options is false|^Too many Cluster redirections|^Failed to refresh slots cache/;

export function surelyNotRun(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // A redirection exhausted ("Too many Cluster redirections. Last error: MOVED …") never ran either.
  return REFUSED.test(error.message) || NOT_SENT.test(error.message);
}

/** A redirection or a cluster in transition: sending the same command again, where the slot is now, is safe. */
export function worthRetrying(error: unknown): boolean {
  return error instanceof Error && /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN)\b/.test(error.message);
}

/**
 * The store unavailable because Redis did not answer `operation`: certain
 * (nothing stored) when the caller knows the command never went out or
 * Redis refused it before running it, else uncertain.
 */
export function redisUnavailable(operation: 'post' | 'read' | 'delete', error: unknown, certain = false) {
  return new StoreUnavailableError(`Redis did not answer the ${operation}.`, {
    cause: error,
    retryAfterSeconds: RETRY_AFTER_SECONDS,
    uncertain: !certain && !surelyNotRun(error),
  });
}
