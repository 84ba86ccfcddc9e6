/**
 * Finds which process holds each socket: every /proc/PID/fd/N that is a socket
 * reads as "socket:[INODE]" through readlink. Only sockets the snapshot holds
 * are looked up, and only when attribution is asked for.
 *
 * Cost model: one readdir per process and one readlink per fd. The directory
 * reads run concurrently (bounded); the readlinks of one directory run as a
 * tight synchronous loop, because at tens of thousands of fds a promise per
 * link costs more than the syscall itself. Links that are not sockets are
 * rejected on their first character ("socket:[" vs "/", "pipe:", "anon_inode:").
 *
 * Races are normal: a process can exit between listing /proc and reading its
 * fds (ENOENT/ESRCH), an fd can close between readdir and readlink. Each is
 * skipped and counted in `skipped`, never thrown.
 */
import { lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import type { SkipCounts, TcpSocket } from './socket.ts';
import type { TcpState } from './tcp-state.ts';

export interface AttributionOptions {
  procRoot?: string;
  /** How many /proc/PID/fd directories are read at once. */
  concurrency?: number;
  /** For sockets in these states, also record `heldSince` from the fd link's ctime. */
  heldSinceStates?: readonly TcpState[];
  skipped: SkipCounts;
}

/** Sets pid, process and fd on the sockets a process holds. */
export async function attributeSockets(
  sockets: TcpSocket[],
  options: AttributionOptions,
): Promise<void> {
  const root = options.procRoot ?? '/proc';
  const byInode = new Map<number, TcpSocket>();
  for (const socket of sockets) if (socket.inode !== 0) byInode.set(socket.inode, socket);
  if (byInode.size === 0) return;
  const agedStates = new Set(options.heldSinceStates ?? []);
  const skipped = options.skipped;
  const pids = (await readdir(root)).filter(isPid);
  const holders = new Map<number, TcpSocket[]>();

  const scan = async (pid: string) => {
    const dir = `${root}/${pid}/fd`;
    let fds: string[];
    try {
      fds = await readdir(dir);
    } catch (error) {
      countFailure(error, skipped);
      return;
    }
    let held: TcpSocket[] | undefined;
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`${dir}/${fd}`);
      } catch {
        skipped.unreadableFds += 1;
        continue;
      }
      // "socket:[123]": 's' then '[' at 7.
      if (link.charCodeAt(0) !== 115 || link.charCodeAt(7) !== 91) continue;
      const socket = byInode.get(parseInode(link));
      if (socket === undefined) continue;
      socket.pid = Number(pid);
      socket.fd = Number(fd);
      if (agedStates.has(socket.state)) {
        try {
          socket.heldSince = Math.round(lstatSync(`${dir}/${fd}`).ctimeMs);
        } catch {
          skipped.unreadableFds += 1;
        }
      }
      if (held === undefined) {
        held = [];
        holders.set(socket.pid, held);
      }
      held.push(socket);
    }
  };

  const queue = pids.values();
  const worker = async () => {
    for (const pid of queue) await scan(pid);
  };
  const concurrency = Math.max(1, options.concurrency ?? 8);
  await Promise.all(Array.from({ length: Math.min(concurrency, pids.length) }, worker));

  for (const [pid, held] of holders) {
    const name = readComm(`${root}/${pid}/comm`);
    if (name === undefined) skipped.vanishedProcesses += 1;
    for (const socket of held) socket.process = name ?? '?';
  }
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

function readComm(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1').trimEnd();
  } catch {
    return undefined;
  }
}

function countFailure(error: unknown, skipped: SkipCounts): void {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ESRCH') skipped.vanishedProcesses += 1;
  else skipped.unreadableFds += 1;
}
