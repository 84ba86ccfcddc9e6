/**
 * The small /proc reads behind incremental attribution (socket-owners.ts):
 * the processes, the size and inode of a process's fd directory, one fd's
 * link, a process's name. Each answers undefined for a process that exited
 * or a file that cannot be read: races with exiting processes are normal.
 */
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';

/** The pids under procRoot. */
export function listPids(procRoot: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync(procRoot)) {
    const code = name.charCodeAt(0);
    if (code >= 48 && code <= 57) pids.push(Number(name));
  }
  return pids;
}

/**
 * st_size and inode of /proc/PID/fd. Linux 6.2+ reports the number of open
 * fds as st_size (0 before); a new inode means a new process under that pid.
 */
export function statFds(
  procRoot: string,
  pid: number | 'self',
): { fdCount: number; dirIno: number } | undefined {
  try {
    const stat = statSync(`${procRoot}/${pid}/fd`);
    return { fdCount: stat.size, dirIno: stat.ino };
  } catch {
    return undefined;
  }
}

/** The inode of a "socket:[INODE]" link, 0 for any other fd, undefined when it cannot be read. */
export function readSocketLink(path: string): number | undefined {
  let link: string;
  try {
    link = readlinkSync(path);
  } catch {
    return undefined;
  }
  if (!link.startsWith('socket:[')) return 0;
  return Number.parseInt(link.slice(8), 10);
}

/** /proc/PID/comm: the kernel's name of the process (what `ss -p` prints). */
export function readComm(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1').trimEnd();
  } catch {
    return undefined;
  }
}
