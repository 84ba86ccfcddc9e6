import { type DestinationStream, type Logger, pino } from 'pino';
import type { LogConfig } from '../config/index.ts';

export type { Logger } from 'pino';

/**
 * The process logger: JSON lines on standard error (standard output belongs to
 * the command's data). Pass a destination in tests to read what was logged.
 */
export function createLogger(config: LogConfig, destination?: DestinationStream): Logger {
  return pino(
    { level: config.level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    destination ?? pino.destination({ fd: 2, sync: true }),
  );
}
