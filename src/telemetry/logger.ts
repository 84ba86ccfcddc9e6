import { type DestinationStream, type Logger, pino } from 'pino';
import type { LogConfig } from '../config/index.ts';
import { prettyDestination } from './pretty-log.ts';

export type { Logger } from 'pino';

/** A level, and the format (`auto` when not given). */
export type LoggerOptions = Pick<LogConfig, 'level'> & { format?: LogConfig['format'] | undefined };

/**
 * The process logger, on standard error (standard output belongs to the
 * command's data): JSON lines, or human-readable lines (pretty-log.ts) when
 * `format` is `pretty`, or `auto` and standard error is a terminal. Pass a
 * destination in tests to read what was logged, and `isTerminal` to stand
 * for the terminal check.
 */
export function createLogger(
  config: LoggerOptions,
  destination?: DestinationStream,
  isTerminal = process.stderr.isTTY === true,
): Logger {
  const format = config.format ?? 'auto';
  const isPretty = format === 'pretty' || (format === 'auto' && isTerminal);
  const out = destination ?? pino.destination({ fd: 2, sync: true });
  return pino(
    { level: config.level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    isPretty ? prettyDestination(out, isTerminal && process.env.NO_COLOR === undefined) : out,
  );
}
