/**
 * Finds which process holds which socket: /proc/PID/fd/N links that read as
 * "socket:[INODE]". One readdir per process and one readlink per fd, in a
 * tight synchronous loop: at tens of thousands of fds a promise per link costs
 * more than the syscall (about 5 µs of kernel time per fd, most of a scan).
 * Run it in a worker (fd-scan-worker.ts) to keep the caller's thread free and
 * to overlap it with the kernel's socket dump.
 *
 * Two scans:
 * - scanSocketFds lists every socket fd of every process (every socket wanted:
 *   `--by process` over all states);
 * - findSocketHolders looks for given inodes only (one state, `--state
 *   close-wait --by process`): it stops as soon as each has its holder, and
 *   costs nothing once none is left to find.
 *
 * One holder per socket, whichever scan found it: a socket several processes
 * hold (inherited across fork, passed over a Unix socket) belongs to the one
 * with the highest pid, at its highest fd there: `holderKey` orders them, and
 * it is the holder `ss -p` lists first (ss walks /proc upwards and lists the
 * last one it saw first). findSocketHolders walks pids and fds downwards, so
 * the first holder it meets is that one and it may stop there.
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

/** Orders the holders of one socket: the highest key is the holder reported. */
export function holderKey(pid: number, fd: number): number {
  return pid * FD_LIMIT + fd; // below 2^43: exact in a double and in a BigInt64
}
/** fds are below fs.nr_open, at most 2^20. */
const FD_LIMIT = 2 ** 21;
export function holderOf(key: number): { pid: number; fd: number } {
  return { pid: Math.floor(key / FD_LIMIT), fd: key % FD_LIMIT };
}

/**
 * Scans share `part` of `parts`: within each process it reads the fds whose
 * number is `part` modulo `parts`, so parallel scanners split the work evenly
 * even when one process holds nearly all sockets. By number, not by place in
 * the listing: each part lists the directory itself, and an fd opened or
 * closed between two listings would shift every place after it, leaving fds
 * nobody reads. Part 0 counts the per-process failures.
 */
export function scanSocketFds(procRoot = '/proc', part = 0, parts = 1): FdScan {
  const scan: FdScan = { entries: [], vanishedProcesses: 0, unreadableFds: 0 };
  for (const pid of readdirSync(procRoot)) {
    if (!isPid(pid)) continue;
    const dir = `${procRoot}/${pid}/fd`;
    const fds = listFds(dir, part === 0, scan);
    if (fds === undefined) continue;
    const pidNumber = Number(pid);
    const prefix = `${dir}/`;
    for (let i = 0; i < fds.length; i++) {
      const fd = Number(fds[i]);
      if (fd % parts !== part) continue;
      const inode = readSocketInode(prefix + fds[i]!, scan);
      if (inode !== 0) scan.entries.push(inode, pidNumber, fd);
    }
  }
  return scan;
}

/**
 * The state one targeted search shares between its threads, in one
 * SharedArrayBuffer: per target the best holderKey found so far (0: none),
 * how many targets have none yet, and the pid each part is scanning (0 once
 * done). A hit is final once every part has gone below its pid: parts walk
 * pids downwards, so nobody can meet a higher holder any more.
 */
export class HolderSearch {
  readonly buffer: SharedArrayBuffer;
  readonly best: BigInt64Array;
  readonly #unresolved: Int32Array;
  readonly #positions: Int32Array;
  readonly #index = new Map<number, number>();
  /** The lowest pid among the targets' holders, once each has one; it only rises. */
  #lowest = 0;

  constructor(targets: ArrayLike<number>, parts: number, buffer?: SharedArrayBuffer) {
    const n = targets.length;
    this.buffer = buffer ?? new SharedArrayBuffer(8 * n + 4 * (1 + parts));
    this.best = new BigInt64Array(this.buffer, 0, n);
    this.#unresolved = new Int32Array(this.buffer, 8 * n, 1);
    this.#positions = new Int32Array(this.buffer, 8 * n + 4, parts);
    for (let i = 0; i < n; i++) this.#index.set(targets[i]!, i);
    if (buffer === undefined) {
      this.#unresolved[0] = this.#index.size;
      this.#positions.fill(0x7fffffff); // not started: may still meet any pid
    }
  }

  /** How many distinct inodes it looks for. */
  get size(): number {
    return this.#index.size;
  }

  indexOf(inode: number): number | undefined {
    return this.#index.get(inode);
  }

  get unresolved(): number {
    return Atomics.load(this.#unresolved, 0);
  }

  /** Records a holder of target `index`; true when it was the target's first. */
  offer(index: number, key: number): boolean {
    const offered = BigInt(key);
    for (;;) {
      const current = Atomics.load(this.best, index);
      if (current >= offered) return false;
      if (Atomics.compareExchange(this.best, index, current, offered) === current) {
        if (current !== 0n) return false;
        Atomics.sub(this.#unresolved, 0, 1);
        return true;
      }
    }
  }

  moveTo(part: number, pid: number): void {
    Atomics.store(this.#positions, part, pid);
  }

  /** Every target has a holder no part can better any more. */
  isDone(): boolean {
    if (Atomics.load(this.#unresolved, 0) > 0) return false;
    if (this.#lowest === 0) {
      let lowest = Number.POSITIVE_INFINITY;
      for (const i of this.#index.values())
        lowest = Math.min(lowest, holderOf(Number(Atomics.load(this.best, i))).pid);
      this.#lowest = lowest; // a holder found later is higher still: checking against this is safe
    }
    for (let part = 0; part < this.#positions.length; part++)
      if (Atomics.load(this.#positions, part) >= this.#lowest) return false;
    return true;
  }
}

/**
 * Looks for the search's targets in `part` of `parts` of every process's
 * fds, pids and fds from the highest down, and stops once nothing is left to
 * find: alone, at the hit that resolves the last target; with other parts,
 * after the process where every target's holder became final.
 */
export function findSocketHolders(
  search: HolderSearch,
  procRoot = '/proc',
  part = 0,
  parts = 1,
): Omit<FdScan, 'entries'> {
  const counts = { vanishedProcesses: 0, unreadableFds: 0 };
  try {
    if (search.size === 0) return counts;
    const pids = readdirSync(procRoot).filter(isPid).map(Number).sort(descending);
    for (const pid of pids) {
      search.moveTo(part, pid);
      if (parts > 1 && search.isDone()) return counts;
      const dir = `${procRoot}/${pid}/fd`;
      const names = listFds(dir, part === 0, counts);
      if (names === undefined) continue;
      const fds = Int32Array.from(names, Number).sort();
      const prefix = `${dir}/`;
      for (let i = fds.length - 1; i >= 0; i--) {
        const fd = fds[i]!;
        if (fd % parts !== part) continue; // by number, as scanSocketFds
        const inode = readSocketInode(prefix + fd, counts);
        if (inode === 0) continue;
        const index = search.indexOf(inode);
        if (index === undefined) continue;
        if (search.offer(index, holderKey(pid, fd)) && parts === 1 && search.unresolved === 0)
          return counts;
      }
    }
    return counts;
  } finally {
    search.moveTo(part, 0);
  }
}

function descending(a: number, b: number): number {
  return b - a;
}

/** The names in a process's fd directory; undefined (counted) when it cannot be read. */
function listFds(
  dir: string,
  countsFailures: boolean,
  counts: Omit<FdScan, 'entries'>,
): string[] | undefined {
  try {
    return readdirSync(dir);
  } catch (error) {
    if (!countsFailures) return undefined;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') counts.vanishedProcesses += 1;
    else counts.unreadableFds += 1;
    return undefined;
  }
}

/** The socket inode an fd link names; 0 for anything else, or a link that went away. */
function readSocketInode(path: string, counts: Omit<FdScan, 'entries'>): number {
  let link: string;
  try {
    link = readlinkSync(path);
  } catch {
    counts.unreadableFds += 1;
    return 0;
  }
  // "socket:[123]": 's' first, '[' at 7; anything else ("/dev/null", "pipe:[1]") is not a socket.
  if (link.charCodeAt(0) !== 115 || link.charCodeAt(7) !== 91) return 0;
  let value = 0;
  for (let i = 8; i < link.length; i++) {
    const code = link.charCodeAt(i);
    if (code < 48 || code > 57) break;
    value = value * 10 + (code - 48);
  }
  return value;
}

function isPid(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code < 48 || code > 57) return false;
  }
  return name.length > 0;
}
