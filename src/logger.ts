import { type Logger, pino, stdTimeFunctions } from 'pino';
import pretty from 'pino-pretty';

/**
 * `json`: one object per line with level (as a word), ISO time and msg, for
 * machines (a container's log driver, CI, a log shipper). `pretty`: a short
 * coloured line per event, local time, fields below it, for a person at a
 * terminal. `auto` (issue 19): `pretty` when stdout is a terminal, else `json`.
 */
export type LogFormat = 'json' | 'pretty' | 'auto';

/** What `auto` means for this stdout. */
export function resolveLogFormat(format: LogFormat, stdoutIsTty: boolean): 'json' | 'pretty' {
  if (format !== 'auto') return format;
  return stdoutIsTty ? 'pretty' : 'json';
}

/**
 * The process's logger, on stdout. Written synchronously, so the last lines
 * before an exit are never lost. `format` defaults to `json` for callers
 * that do not say (tests, embedders); the process passes its setting.
 * `stdoutIsTty` is for tests: by default, whether stdout is a terminal now.
 */
export function createLogger(
  level = 'info',
  format: LogFormat = 'json',
  stdoutIsTty = process.stdout.isTTY === true,
): Logger {
  const options = {
    level,
    base: undefined,
    timestamp: stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (resolveLogFormat(format, stdoutIsTty) === 'pretty') {
    const stream = pretty({
      sync: true,
      colorize: stdoutIsTty,
      // A person reads the local clock; the date is in the JSON form for machines.
      translateTime: 'SYS:HH:MM:ss',
      ignore: 'pid,hostname',
    });
    return pino(options, stream);
  }
  return pino(options, pino.destination({ dest: 1, sync: true }));
}
