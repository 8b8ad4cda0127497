// @ts-check
// The run's side of the load generator: bench/loadgen.mjs in a process of its
// own (so that its CPU is not the server's nor the run's), driven over IPC,
// one call per command (connect, storm, reset, drain, stats, close, churn,
// agreement).
import { fork } from 'node:child_process';
import { join } from 'node:path';

/**
 * @typedef {object} Loadgen
 * @property {number} pid
 * @property {(cmd: string, args?: object) => Promise<any>} call
 * @property {() => void} stop
 *
 * @typedef {object} Stats what loadgen.mjs counts over one scenario
 * @property {number} sockets
 * @property {number} closed subscribers dropped (or never opened)
 * @property {number} delivered
 * @property {number} dups
 * @property {number} lost
 * @property {number} lastReceiveMicros
 * @property {number} bytes
 * @property {number} p50 µs
 * @property {number} p99 µs
 * @property {number} max µs
 * @property {number} presenceEvents presence events the subscribers received (when they asked for them)
 */

/**
 * @param {import('./processes.mjs').Children} children
 * @param {string} root the repository
 * @returns {Loadgen}
 */
export function startLoadgen(children, root) {
  const child = fork(join(root, 'bench/loadgen.mjs'), [], { stdio: 'inherit' });
  children.track(child);
  let next = 0;
  /** @type {Map<number, { resolve: (value: any) => void, reject: (error: Error) => void }>} */
  const waiting = new Map();
  child.on('message', (/** @type {any} */ { id, result, error }) => {
    const entry = waiting.get(id);
    waiting.delete(id);
    if (error) entry?.reject(new Error(error));
    else entry?.resolve(result);
  });
  child.once('exit', (code) => {
    for (const entry of waiting.values()) entry.reject(new Error(`loadgen exited with ${code}`));
  });
  return {
    pid: /** @type {number} */ (child.pid),
    call: (cmd, args) =>
      new Promise((resolve, reject) => {
        const id = next++;
        waiting.set(id, { resolve, reject });
        child.send({ id, cmd, args });
      }),
    stop: () => child.kill(),
  };
}

/**
 * Where loadgen.mjs subscribes to a server, and how it reads an event.
 * @param {import('./servers.mjs').Server} server
 */
export const targetOf = (server) => {
  const url = new URL(server.url);
  return { host: url.hostname, port: Number(url.port), path: server.subscribePath, pattern: server.pattern };
};
