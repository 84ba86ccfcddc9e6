/**
 * Lists every socket fd of every process: /proc/PID/fd/N links that read as
 * "socket:[INODE]". One readdir per process and one readlink per fd, in a
 * tight synchronous loop: at tens of thousands of fds a promise per link costs
 * more than the syscall. Run it in a worker (fd-scan-worker.ts) to keep the
 * caller's thread free and to overlap it with reading /proc/net/tcp.
 *
 * Races are normal: a process can exit between listing /proc and reading its
 * fds (ENOENT/ESRCH), an fd can close between readdir and readlink. Each is
 * skipped and counted, never thrown.
 */
import { readdirSync, readlinkSync } from 'node:fs';

export interface FdScan {
  /** Triples (inode, pid, fd), flat. */
  entries: number[];
  vanishedProcesses: number;
  unreadableFds: number;
}

/**
 * Scans share `part` of `parts`: within each process it reads every
 * parts-th fd, so parallel scanners split the work evenly even when one
 * process holds nearly all sockets. Part 0 counts the per-process failures.
 */
export function scanSocketFds(procRoot = '/proc', part = 0, parts = 1): FdScan {
  const scan: FdScan = { entries: [], vanishedProcesses: 0, unreadableFds: 0 };
  const countsProcesses = part === 0;
  for (const pid of readdirSync(procRoot)) {
    if (!isPid(pid)) continue;
    const dir = `${procRoot}/${pid}/fd`;
    let fds: string[];
    try {
      fds = readdirSync(dir);
    } catch (error) {
      if (!countsProcesses) continue;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ESRCH') scan.vanishedProcesses += 1;
      else scan.unreadableFds += 1;
      continue;
    }
    const pidNumber = Number(pid);
    const prefix = `${dir}/`;
    for (let i = part; i < fds.length; i += parts) {
      const fd = fds[i]!;
      let link: string;
      try {
        link = readlinkSync(prefix + fd);
      } catch {
        scan.unreadableFds += 1;
        continue;
      }
      // "socket:[123]": 's' first, '[' at 7; anything else ("/dev/null", "pipe:[1]") is not a socket.
      if (link.charCodeAt(0) !== 115 || link.charCodeAt(7) !== 91) continue;
      scan.entries.push(parseInode(link), pidNumber, Number(fd));
    }
  }
  return scan;
}

function isPid(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code < 48 || code > 57) return false;
  }
  return name.length > 0;
}

function parseInode(link: string): number {
  let value = 0;
  for (let i = 8; i < link.length; i++) {
    const code = link.charCodeAt(i);
    if (code < 48 || code > 57) break;
    value = value * 10 + (code - 48);
  }
  return value;
}
