import { type Logger, pino, stdTimeFunctions } from 'pino';
import pretty from 'pino-pretty';

/**
 * JSON lines by default: one object per event with level (as a word), ISO
 * time and msg. `pretty` is for a person at a terminal. Written
 * synchronously, so the last lines before an exit are never lost.
 */
export function createLogger(level = 'info', format: 'json' | 'pretty' = 'json'): Logger {
  const options = {
    level,
    base: undefined,
    timestamp: stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (format === 'pretty') return pino(options, pretty({ sync: true, colorize: process.stdout.isTTY }));
  return pino(options, pino.destination({ dest: 1, sync: true }));
}
