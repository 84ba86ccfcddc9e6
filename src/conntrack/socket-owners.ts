/**
 * Incremental attribution for `keepwire serve`: which process holds which
 * socket inode, remembered between samples, so that a sample re-reads
 * /proc/PID/fd only where something can have changed. A full scan (one
 * readlink per fd on the host) costs ~8 µs per fd, ~400 ms of CPU at 50,000
 * sockets: every 5 s that alone was 8 % of a core.
 *
 * Kept: per process, its fd table as last read (fd -> socket inode, 0 for
 * anything else) and fd count; per socket inode, its holder (pid, fd) and,
 * for CLOSE_WAIT, the ctime of /proc/PID/fd/FD, read once.
 *
 * What a sample re-reads (readdir of /proc/PID/fd, then readlink of the fds
 * not known), and why that is enough:
 * - `new`: a process not seen before.
 * - `changed`: a process whose fd count (st_size of /proc/PID/fd, Linux 6.2+)
 *   changed: it opened or closed something. On older kernels st_size is 0
 *   and every process is read this way (readdir only; readlink of new fds).
 * - `closed`: a process one of whose sockets left the kernel's table: its fd
 *   is closed or reused, so that fd is read again.
 * - `search`: a CLOSE_WAIT socket no known fd holds (a socket opened on the
 *   number of an fd closed since the last sample, the count unchanged):
 *   every process's fds not known to hold a live socket are read again, once
 *   per such inode; one still not found (another user's process, without
 *   root) is not searched for again.
 * - `rescan`: the safety net. Each full sample re-reads one slice of every
 *   process's known fds (fd number modulo `rescanSlices`), so a change no rule
 *   above sees (an fd replaced by dup2 with a socket still alive elsewhere)
 *   is corrected within `rescanSlices` full samples; a slice that changed
 *   re-reads the whole process.
 * Names (/proc/PID/comm: exec and prctl change them) are read once per sample
 * for each process that holds a TCP socket.
 * A process that exited takes its fds with it. A socket several processes
 * hold (fork, fd passing) belongs to the highest (pid, fd), as in
 * `keepwire sockets` (fd-scan.ts); when that one lets go, the next known
 * holder takes it over in the same sample.
 *
 * A light sample (watch-sampler.ts) passes only the sockets it read, none in
 * CARRIED_STATES: it skips the rescan, and a socket last seen in those
 * states is not taken for closed because the light sample did not list it.
 *
 * Sockets without an inode (TIME_WAIT, SYN_RECV mini-sockets, orphans) are
 * never looked up. The first sample reads every fd, on worker threads on big
 * hosts (startFdScan), so serve's event loop stays free.
 *
 * Socket objects may be shared with earlier samples (NetlinkDumpParser's
 * parseReusing): one whose attribution changed is replaced by a copy,
 * never changed in place, so the history keeps what it saw.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { holderKey, holderOf } from './fd-scan.ts';
import { bestHolders, type Owner, type ProcessFds } from './holder-table.ts';
import type { SocketLookup } from './netlink-parser.ts';
import { listPids, readComm, readSocketLink, statFds } from './proc-fds.ts';
import { startFdScan } from './process-attribution.ts';
import type { SkipCounts, TcpSocket } from './socket.ts';
import { CARRIED_STATES } from './tcp-state.ts';

export type ReadReason = 'new' | 'changed' | 'closed' | 'search' | 'rescan';

export interface AttributionResult {
  /** Processes whose fd directory was read, by why. */
  reads: Record<ReadReason, number>;
  /** fd links read (readlink calls). */
  links: number;
  /** Sockets with an inode that no visible process holds. */
  unowned: number;
}

export class SocketOwners {
  readonly #root: string;
  readonly #rescanSlices: number;
  readonly #sizeIsCount: boolean;
  readonly #processes = new Map<number, ProcessFds>();
  readonly #owners = new Map<number, Owner>();
  /** Inodes whose holder let go this sample (#release). */
  readonly #orphans = new Set<number>();
  readonly #searched = new Set<number>();
  #generation = 0;
  /** Full samples so far: the rescan's turn. */
  #rescans = 0;
  #seeded = false;
  #reads = emptyReads();
  #links = 0;
  #skipped: SkipCounts | undefined;
  #current = new Map<number, TcpSocket>();

  constructor(options: { procRoot?: string; rescanSlices: number }) {
    this.#root = options.procRoot ?? '/proc';
    this.#rescanSlices = Math.max(1, Math.floor(options.rescanSlices));
    // Linux 6.2+ reports the fd count as st_size of /proc/PID/fd; before, 0.
    this.#sizeIsCount = (statFds(this.#root, 'self')?.fdCount ?? 0) > 0;
  }

  /**
   * Sets pid, process and fd (and heldSince on CLOSE_WAIT) on the sockets a
   * visible process holds, replacing in `sockets` and `current` (this
   * sample's inode -> socket) any object of `earlier` (the sample before's).
   */
  async attribute(
    sockets: TcpSocket[],
    maps: { current: Map<number, TcpSocket>; earlier: SocketLookup },
    skipped: SkipCounts,
    light = false,
  ): Promise<AttributionResult> {
    this.#reads = emptyReads();
    this.#links = 0;
    this.#skipped = skipped;
    const previous = this.#current;
    this.#current = maps.current;
    const generation = ++this.#generation;
    if (!this.#seeded) {
      await this.#seed(generation);
      this.#seeded = true;
    }
    for (const socket of sockets) {
      if (socket.inode === 0) continue;
      const owner = this.#owners.get(socket.inode);
      if (owner === undefined) continue;
      owner.seen = generation;
      owner.carried = CARRIED_STATES.includes(socket.state);
    }
    const read = new Set<number>();
    const dirty = new Map<number, ReadReason>();
    // A full sample looks at every owner; a light one at the sockets the sample before listed.
    for (const inode of light ? previous.keys() : this.#owners.keys()) {
      const owner = this.#owners.get(inode);
      if (owner === undefined || owner.seen === generation || owner.seen === 0) continue;
      if (light && owner.carried) continue; // a light sample did not look for it
      this.#owners.delete(inode);
      this.#processes.get(owner.pid)?.fds.delete(owner.fd); // closed, or another fd now: read it
      if (this.#processes.has(owner.pid)) dirty.set(owner.pid, 'closed');
    }
    this.#findChanged(generation, dirty);
    for (const [pid, reason] of dirty) this.#read(pid, reason, read);
    if (!light) this.#rescanSlice(read);
    this.#search(sockets, read);
    this.#adoptOrphans();
    const unowned = this.#apply(sockets, maps.earlier);
    return { reads: this.#reads, links: this.#links, unowned };
  }

  /** The first sample: every socket fd on the host, off the event loop where there are many. */
  async #seed(generation: number): Promise<void> {
    const pids = listPids(this.#root);
    for (const pid of pids) {
      const dir = statFds(this.#root, pid);
      if (dir === undefined) continue;
      this.#processes.set(pid, {
        ...dir,
        fds: new Map(),
        comm: undefined,
        namedAt: 0,
        seen: generation,
      });
    }
    const scan = await startFdScan(this.#root).result;
    this.#skipped!.vanishedProcesses += scan.vanishedProcesses;
    this.#skipped!.unreadableFds += scan.unreadableFds;
    const entries = scan.entries;
    for (let i = 0; i < entries.length; i += 3) {
      const [inode, pid, fd] = [entries[i]!, entries[i + 1]!, entries[i + 2]!];
      const known = this.#processes.get(pid);
      if (known === undefined) continue; // started during the scan: read as new next sample
      known.fds.set(fd, inode);
      this.#own(inode, pid, fd);
    }
    this.#reads.new += this.#processes.size;
  }

  /** Marks processes that started, or whose fd count changed; drops those that exited. */
  #findChanged(generation: number, dirty: Map<number, ReadReason>): void {
    for (const pid of listPids(this.#root)) {
      const known = this.#processes.get(pid);
      if (known === undefined) {
        dirty.set(pid, 'new');
        continue;
      }
      const dir = statFds(this.#root, pid);
      if (dir === undefined) continue; // exited just now: dropped below
      if (dir.dirIno !== known.dirIno) {
        this.#drop(pid, known); // another process under a reused pid
        dirty.set(pid, 'new');
        continue;
      }
      known.seen = generation;
      const unknownCount = dir.fdCount === 0 && !this.#sizeIsCount;
      if (unknownCount || dir.fdCount !== known.fdCount)
        dirty.set(pid, dirty.get(pid) ?? 'changed');
    }
    for (const [pid, known] of this.#processes) {
      if (known.seen === generation) continue;
      this.#drop(pid, known);
      dirty.delete(pid);
    }
  }

  /** Forgets a process and the sockets it was known to hold. */
  #drop(pid: number, known: ProcessFds): void {
    for (const [fd, inode] of known.fds) this.#release(inode, pid, fd);
    this.#processes.delete(pid);
  }

  /** (pid, fd) no longer holds `inode`: another known holder may take it over (#adoptOrphans). */
  #release(inode: number, pid: number, fd: number): void {
    const owner = inode === 0 ? undefined : this.#owners.get(inode);
    if (owner?.pid !== pid || owner.fd !== fd) return;
    this.#owners.delete(inode);
    this.#orphans.add(inode);
  }

  /** Sockets whose holder let go: the highest other holder known, if any, holds them now. */
  #adoptOrphans(): void {
    if (this.#orphans.size === 0) return;
    for (const inode of this.#orphans) if (this.#owners.has(inode)) this.#orphans.delete(inode);
    for (const [inode, key] of bestHolders(this.#processes, this.#orphans)) {
      const { pid, fd } = holderOf(key);
      this.#own(inode, pid, fd);
    }
    this.#orphans.clear();
  }

  /**
   * Reads a process's fd directory and readlinks the fds not known (all of
   * them with `everyNonSocket`, also those known not to hold a live socket).
   */
  #read(pid: number, reason: ReadReason, read: Set<number>): void {
    const dir = `${this.#root}/${pid}/fd`;
    const stat = statFds(this.#root, pid);
    let names: string[] | undefined;
    let code: string | undefined = 'ENOENT';
    try {
      if (stat !== undefined) names = readdirSync(dir);
    } catch (error) {
      code = (error as NodeJS.ErrnoException).code;
    }
    if (stat === undefined || names === undefined) {
      if (code === 'ENOENT' || code === 'ESRCH') this.#skipped!.vanishedProcesses += 1;
      else this.#skipped!.unreadableFds += 1;
      this.#processes.delete(pid);
      return;
    }
    read.add(pid);
    this.#reads[reason] += 1;
    const known = this.#processes.get(pid);
    const before = known?.fds ?? new Map<number, number>();
    const fds = new Map<number, number>();
    const everyNonSocket = reason === 'search';
    for (const name of names) {
      const fd = Number(name);
      let inode = before.get(fd);
      if (inode === undefined || (everyNonSocket && inode === 0)) {
        inode = this.#readLink(`${dir}/${name}`);
        if (inode === undefined) {
          this.#skipped!.unreadableFds += 1;
          continue;
        }
      }
      fds.set(fd, inode);
      if (inode !== 0) this.#own(inode, pid, fd);
    }
    for (const [fd, inode] of before) if (fds.get(fd) !== inode) this.#release(inode, pid, fd);
    if (known === undefined) {
      const fresh = { ...stat!, fds, comm: undefined, namedAt: 0, seen: this.#generation };
      this.#processes.set(pid, fresh);
    } else {
      known.fds = fds;
      known.fdCount = stat!.fdCount;
    }
  }

  /** Re-reads one slice of every process's known fds; a process whose slice changed is read again. */
  #rescanSlice(read: Set<number>): void {
    const slices = this.#rescanSlices;
    const turn = ++this.#rescans % slices;
    for (const [pid, known] of this.#processes) {
      if (read.has(pid)) continue;
      let changed = false;
      for (const [fd, inode] of known.fds) {
        if (fd % slices !== turn) continue;
        if (this.#readLink(`${this.#root}/${pid}/fd/${fd}`) !== inode) {
          changed = true;
          break;
        }
      }
      if (!changed) continue;
      // Forget the slice, so that reading the process readlinks it again.
      for (const [fd, inode] of known.fds) {
        if (fd % slices !== turn) continue;
        known.fds.delete(fd);
        this.#release(inode, pid, fd);
      }
      this.#read(pid, 'rescan', read);
    }
  }

  /** CLOSE_WAIT sockets nobody was found holding: read every other process's unknown fds, once per inode. */
  #search(sockets: TcpSocket[], read: Set<number>): void {
    const missing: number[] = [];
    for (const socket of sockets) {
      if (socket.inode === 0) continue;
      if (
        socket.state === 'CLOSE_WAIT' &&
        !this.#owners.has(socket.inode) &&
        !this.#searched.has(socket.inode)
      )
        missing.push(socket.inode);
    }
    for (const inode of this.#searched) if (!this.#current.has(inode)) this.#searched.delete(inode);
    if (missing.length === 0) return;
    for (const pid of [...this.#processes.keys()])
      if (!read.has(pid)) this.#read(pid, 'search', read);
    for (const inode of missing) if (!this.#owners.has(inode)) this.#searched.add(inode);
  }

  /** Sets each socket's holder (on a copy if `earlier` has it); returns how many have none. */
  #apply(sockets: TcpSocket[], earlier: SocketLookup): number {
    let unowned = 0;
    for (let i = 0; i < sockets.length; i++) {
      const socket = sockets[i]!;
      if (socket.inode === 0) continue;
      const owner = this.#owners.get(socket.inode);
      if (owner === undefined) unowned += 1;
      const process = owner && this.#nameOf(owner.pid);
      let heldSince: number | undefined;
      if (owner !== undefined && socket.state === 'CLOSE_WAIT') {
        owner.heldSince ??= this.#ctime(owner);
        heldSince = owner.heldSince;
      }
      if (
        socket.pid === owner?.pid &&
        socket.fd === owner?.fd &&
        socket.process === process &&
        socket.heldSince === heldSince
      )
        continue;
      const target = earlier.get(socket.inode) === socket ? { ...socket } : socket;
      delete target.pid;
      delete target.process;
      delete target.fd;
      delete target.heldSince;
      if (owner !== undefined) {
        target.pid = owner.pid;
        target.process = process;
        target.fd = owner.fd;
        if (heldSince !== undefined) target.heldSince = heldSince;
      }
      sockets[i] = target;
      this.#current.set(target.inode, target);
    }
    return unowned;
  }

  /** The process's name now: it can change at any time (exec, prctl), so read once per sample. */
  #nameOf(pid: number): string {
    const known = this.#processes.get(pid);
    if (known === undefined) return '?';
    if (known.namedAt !== this.#generation) {
      known.comm = readComm(`${this.#root}/${pid}/comm`) ?? known.comm;
      known.namedAt = this.#generation;
    }
    return known.comm ?? '?';
  }

  #own(inode: number, pid: number, fd: number): void {
    const owner = this.#owners.get(inode);
    if (owner?.pid === pid && owner.fd === fd) return;
    // Held by several (fork, fd passing): the highest (pid, fd) still holding it is the one reported.
    if (
      owner !== undefined &&
      holderKey(owner.pid, owner.fd) > holderKey(pid, fd) &&
      this.#processes.get(owner.pid)?.fds.get(owner.fd) === inode
    )
      return;
    const seen = this.#current.has(inode) ? this.#generation : (owner?.seen ?? 0);
    this.#owners.set(inode, { pid, fd, seen });
    this.#searched.delete(inode);
  }

  #readLink(path: string): number | undefined {
    this.#links += 1;
    return readSocketLink(path);
  }

  #ctime(owner: Owner): number | undefined {
    try {
      return Math.round(lstatSync(`${this.#root}/${owner.pid}/fd/${owner.fd}`).ctimeMs);
    } catch {
      this.#skipped!.unreadableFds += 1;
      return undefined;
    }
  }
}

function emptyReads(): Record<ReadReason, number> {
  return { new: 0, changed: 0, closed: 0, search: 0, rescan: 0 };
}
