/** Real wallcast processes for the tests that need one: restarts, kills, signals. */
import { type ChildProcess, spawn } from 'node:child_process';
import { within } from './deadlines.js';

export const MAIN = new URL('../../dist/main.js', import.meta.url).pathname;

export interface WallcastProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
}

/**
 * Starts `node dist/main.js` on a free port and waits for its "listening
 * on" line (logged at info, whatever level the test run itself logs at). A
 * process that does not get there is killed, not left behind.
 */
export async function spawnWallcast(env: Record<string, string>, args: string[] = []): Promise<WallcastProcess> {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { ...process.env, PORT: '0', WALLCAST_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await within(
    'wallcast logs its URL',
    20_000,
    new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on (https?:\/\/[^\s"]+)/.exec(output);
        if (match?.[1]) resolve(match[1]);
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => reject(new Error(`wallcast exited with ${code}: ${output}`)));
    }),
  ).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return { child, url, output: () => output, exited };
}
