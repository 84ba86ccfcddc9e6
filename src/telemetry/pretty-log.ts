/**
 * Human-readable log lines for a terminal (`log.format: pretty`, or `auto`
 * on a terminal): each JSON line pino writes becomes
 * `12:00:01.234 INFO  message  key=value key=value`, an error's stack
 * indented below. A formatter of our own, a few lines instead of a
 * dependency; JSON stays the format for files, journald and collectors.
 */
import type { DestinationStream } from 'pino';

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
/** ANSI colours by level, on a terminal only (and not with NO_COLOR). */
const COLOURS: Record<number, string> = {
  10: '\x1b[90m',
  20: '\x1b[36m',
  30: '\x1b[32m',
  40: '\x1b[33m',
  50: '\x1b[31m',
  60: '\x1b[35m',
};
const PLAIN = /^[^\s"=]+$/;

export function formatPretty(line: string, colour = false): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const { level, time, msg, pid: _pid, hostname: _hostname, err, ...fields } = record;
  const at = typeof time === 'string' ? time.slice(11, 23) : '';
  const name = (LEVELS[level as number] ?? String(level)).padEnd(5);
  const shown = colour ? `${COLOURS[level as number] ?? ''}${name}\x1b[0m` : name;
  const pairs = Object.entries(fields).map(([key, value]) => `${key}=${show(value)}`);
  let text = `${at} ${shown} ${msg ?? ''}${pairs.length > 0 ? `  ${pairs.join(' ')}` : ''}\n`;
  if (err !== undefined) {
    const { message, stack } = err as { message?: string; stack?: string };
    text += `${(stack ?? message ?? JSON.stringify(err)).replace(/^/gm, '    ')}\n`;
  }
  return text;
}

function show(value: unknown): string {
  if (typeof value === 'string') return PLAIN.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value);
}

/** A pino destination that writes each line formatted to `out`. */
export function prettyDestination(out: DestinationStream, colour: boolean): DestinationStream {
  return {
    write(chunk: string) {
      for (const line of chunk.split('\n')) if (line !== '') out.write(formatPretty(line, colour));
    },
  };
}
