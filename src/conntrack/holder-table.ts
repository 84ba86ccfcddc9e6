/**
 * What incremental attribution (socket-owners.ts) keeps: per process its fd
 * table as last read, per socket inode the holder reported; and the pass
 * that finds a new holder for sockets whose holder let go.
 */
import { holderKey } from './fd-scan.ts';

export interface Owner {
  pid: number;
  fd: number;
  /**
   * The sample (generation) that last saw this inode in the kernel's TCP
   * table; 0 for a socket never seen there (UNIX, UDP, or TCP not yet bound).
   */
  seen: number;
  /** Last seen in a state light samples only count (CARRIED_STATES): they do not look for it. */
  carried?: boolean;
  heldSince?: number;
}

export interface ProcessFds {
  /** st_size of /proc/PID/fd when last read. */
  fdCount: number;
  /** The inode of /proc/PID/fd: a new one means a new process under a reused pid. */
  dirIno: number;
  /** fd -> socket inode, 0 for an fd that is not a socket. */
  fds: Map<number, number>;
  /** /proc/PID/comm, read once per sample while the process holds a TCP socket. */
  comm: string | undefined;
  namedAt: number;
  seen: number;
}

/**
 * For each of `inodes`, the holderKey of the highest (pid, fd) whose fd
 * table, as last read, holds it; inodes nobody holds are left out. One pass
 * over every known fd.
 */
export function bestHolders(
  processes: ReadonlyMap<number, ProcessFds>,
  inodes: ReadonlySet<number>,
): Map<number, number> {
  const best = new Map<number, number>();
  if (inodes.size === 0) return best;
  for (const [pid, known] of processes)
    for (const [fd, inode] of known.fds) {
      if (inode === 0 || !inodes.has(inode)) continue;
      const key = holderKey(pid, fd);
      if (key > (best.get(inode) ?? -1)) best.set(inode, key);
    }
  return best;
}
