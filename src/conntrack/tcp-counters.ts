/**
 * Two of the kernel's own TCP counters, read in microseconds whatever the
 * socket count, for `keepwire serve`'s light samples (watch-sampler.ts):
 *
 * - `CurrEstab` in /proc/net/snmp (the `Tcp:` lines, header then values):
 *   connections in ESTABLISHED and, since Linux 6.10 (and the stable kernels
 *   that took the change), in CLOSE_WAIT as well, as RFC 1213's
 *   tcpCurrEstab means. Which one a kernel does, full samples check.
 * - `tw` in /proc/net/sockstat (`TCP: inuse N orphan N tw N ...`): TIME_WAIT
 *   sockets, IPv4 and IPv6 alike.
 *
 * Both count the reading process's network namespace, as the socket dump
 * does. Undefined when either file or field cannot be read (a /proc without
 * them, a test's fake /proc): the caller reads the whole dump instead.
 */
import { readFileSync } from 'node:fs';

export interface TcpCounters {
  currEstab: number;
  timeWait: number;
}

export function readTcpCounters(procRoot = '/proc'): TcpCounters | undefined {
  let snmp: string;
  let sockstat: string;
  try {
    snmp = readFileSync(`${procRoot}/net/snmp`, 'latin1');
    sockstat = readFileSync(`${procRoot}/net/sockstat`, 'latin1');
  } catch {
    return undefined;
  }
  const [names, values] = snmp.split('\n').filter((line) => line.startsWith('Tcp:'));
  const at = names?.split(' ').indexOf('CurrEstab') ?? -1;
  const currEstab = at > 0 ? Number(values?.split(' ')[at]) : Number.NaN;
  const timeWait = Number(/^TCP: .*\btw (\d+)/m.exec(sockstat)?.[1]);
  if (!Number.isSafeInteger(currEstab) || !Number.isSafeInteger(timeWait)) return undefined;
  return { currEstab, timeWait };
}
