/** CPU accounting of a process from /proc/PID/stat, for the watch benches. */
import { readFileSync } from 'node:fs';

/** getconf CLK_TCK on Linux: the unit of /proc/PID/stat's times. */
export const TICKS_PER_SECOND = 100;

/** ppid and [utime, stime, cutime, cstime] in ticks, of a process still running. */
export function statOf(pid: number | string): { ppid: number; ticks: number[] } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), ticks: [11, 12, 13, 14].map((i) => Number(fields[i])) };
  } catch {
    return undefined; // exited meanwhile
  }
}
