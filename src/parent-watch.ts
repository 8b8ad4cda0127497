/**
 * Drains the server when npm, which started it, has gone (issue 19).
 *
 * `npx wallcast` and `npm start` run the server as npm → `sh -c` → node. On
 * SIGTERM npm forwards the signal to the shell, the shell dies of it without
 * passing it on (dash waits on node; it does not exec it), npm exits, and
 * node, which never saw a signal, is reparented and serves on, orphaned.
 * (Seen with npm 11 and dash 0.5.12: strace shows SIGTERM reach npm and sh,
 * nothing reach node.) Node cannot ask the kernel for a signal when its parent
 * dies (no prctl PR_SET_PDEATHSIG), so the parent is looked at once a second:
 * a `process.ppid` other than the one at start means the parent has died and
 * the process was reparented (to init, or to the nearest subreaper in a
 * container), so the server drains as it would on SIGTERM.
 *
 * Only under a package manager (`npm_lifecycle_event`, which npm, pnpm and
 * yarn set for scripts and `npm exec`): a server started with `nohup … &`
 * from a shell that then exits is reparented too, and must go on serving.
 */

/** How often the parent is looked at: a second, well inside the 10 s an orchestrator gives before SIGKILL. */
export const PARENT_CHECK_MS = 1000;

/** Whether `env` says the process was started by npm (or pnpm, yarn) for a script or `npm exec`. */
export function startedByPackageManager(env: NodeJS.ProcessEnv): boolean {
  return env.npm_lifecycle_event !== undefined && env.npm_lifecycle_event !== '';
}

/**
 * Calls `onOrphaned` once, with the former parent's pid, when this process's
 * parent changes. The timer does not keep the process alive. Returns a
 * function that stops watching (call it when shutting down for another reason).
 */
export function watchParent(
  onOrphaned: (formerParentPid: number) => void,
  checkMs: number = PARENT_CHECK_MS,
): () => void {
  const parentPid = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parentPid) return;
    clearInterval(timer);
    onOrphaned(parentPid);
  }, checkMs);
  timer.unref();
  return () => clearInterval(timer);
}
