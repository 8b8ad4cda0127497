import { type Logger, pino, stdTimeFunctions } from 'pino';

/** JSON lines: one object per event with level (as a word), ISO time and msg. */
export function createLogger(level = 'info'): Logger {
  return pino({
    level,
    base: undefined,
    timestamp: stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
