/**
 * Finds which process holds each socket by joining the snapshot's inodes with
 * the /proc/PID/fd scans of fd-scan.ts. Two ways, one answer:
 * - every socket wanted (`--by process`): takeSnapshot starts the full scan
 *   (startFdScan) right after starting `ss`, so the kernel's socket dump and
 *   the scan run at once;
 * - a few states wanted (`--state close-wait --by process`, the CLOSE_WAIT
 *   sockets of a diagnosis): the kernel's filtered dump is short, so the
 *   search (startHolderSearch) waits for its inodes and looks for those only,
 *   stopping once each has its holder; with no socket to attribute it reads
 *   no fd at all.
 * On hosts with many sockets either is split over worker threads (and the
 * calling thread, in the CLI). Only done when attribution is asked for.
 */
import { lstatSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  type FdScan,
  findSocketHolders,
  HolderSearch,
  holderKey,
  holderOf,
  scanSocketFds,
} from './fd-scan.ts';
import type { SkipCounts, TcpSocket } from './socket.ts';
import type { TcpState } from './tcp-state.ts';

export interface PendingFdScan {
  readonly result: Promise<{
    entries: Float64Array;
    vanishedProcesses: number;
    unreadableFds: number;
  }>;
}

/** Below this many TCP sockets a worker's start-up (~30 ms) costs more than it saves. */
const WORKER_THRESHOLD_SOCKETS = 20_000;

/**
 * How many threads scan this host's fds (1: the calling thread alone), from
 * the sockets processes hold, the cores and the 1-minute load average:
 * - below WORKER_THRESHOLD_SOCKETS, or KEEPWIRE_FD_SCAN_WORKERS_FROM (a count
 *   of sockets; lets a test or an operator choose), one;
 * - else one per core, at most 4; but a caller that scans too (`shareCaller`,
 *   the CLI) adds workers only while a core is idle (load average below
 *   cores - 1): measured at 50,000 sockets on 2 busy cores (load average 5),
 *   the worker's start-up and its share of the cores made `--by process`
 *   871 ms inline against 1,029 ms with a worker, `--state close-wait --by
 *   process` 876 against 1,136 ms; on a quiet machine the split won (351
 *   against 409 ms; docs/benchmarks.md). A configured threshold skips the
 *   load rule, so tests get the path they ask for.
 */
export function scanThreads(
  sockets: number,
  host: { cores: number; loadAverage: number; configured?: string; shareCaller?: boolean },
): number {
  const configured = host.configured === undefined ? Number.NaN : Number(host.configured);
  const isConfigured = Number.isInteger(configured) && configured >= 0;
  if (sockets < (isConfigured ? configured : WORKER_THRESHOLD_SOCKETS)) return 1;
  if (host.shareCaller && !isConfigured && host.loadAverage >= host.cores - 1) return 1;
  return Math.max(1, Math.min(host.cores, 4));
}

/** The worker's module next to this one, as sources (.ts) or as the build (.js). */
const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './fd-scan-worker.ts' : './fd-scan-worker.js',
  import.meta.url,
);

/** How many parts a scan of this host is split into; 1 runs on the calling thread alone. */
function partsFor(procRoot: string, shareCaller?: boolean): number {
  return scanThreads(countAllocatedSockets(procRoot), {
    cores: availableParallelism(),
    loadAverage: loadavg()[0]!,
    configured: process.env.KEEPWIRE_FD_SCAN_WORKERS_FROM,
    shareCaller,
  });
}

/**
 * Starts scanning every process's fds. On small hosts (and busy ones, for
 * `shareCaller`: scanThreads), on the calling thread, at once: a worker's
 * start-up would cost more than it saves. On hosts with many sockets, in
 * parts split evenly (every process's fds dealt out), one per core, at most
 * 4: with `shareCaller` the calling thread scans the
 * first part itself before returning (fastest for a one-shot command: the
 * CLI has nothing else to do), else workers scan every part and the caller's
 * event loop stays free (`keepwire serve`).
 */
export function startFdScan(
  procRoot = '/proc',
  options: { shareCaller?: boolean } = {},
): PendingFdScan {
  const parts = partsFor(procRoot, options.shareCaller);
  if (parts === 1) {
    const scan = scanSocketFds(procRoot);
    return { result: Promise.resolve({ ...scan, entries: Float64Array.from(scan.entries) }) };
  }
  const first = options.shareCaller ? 1 : 0;
  const scans: Promise<WorkerScan>[] = [];
  for (let part = first; part < parts; part++)
    scans.push(workerResult<WorkerScan>(startWorker(procRoot, part, parts, false)));
  if (options.shareCaller) {
    const own = scanSocketFds(procRoot, 0, parts);
    scans.push(Promise.resolve({ ...own, entries: Float64Array.from(own.entries) }));
  }
  const result = Promise.all(scans).then((results) => {
    const entries = new Float64Array(results.reduce((n, r) => n + r.entries.length, 0));
    let offset = 0;
    for (const r of results) {
      entries.set(r.entries, offset);
      offset += r.entries.length;
    }
    return { entries, ...sumSkips(results) };
  });
  result.catch(() => {}); // awaited by attributeSockets; never an unhandled rejection meanwhile
  return { result };
}

/** A search for given inodes whose workers (if any) boot now; the inodes come later. */
export interface PendingHolderSearch {
  /** The best holderKey per target (0: none found), and what was skipped. */
  find(targets: number[]): Promise<{ keys: BigInt64Array } & Omit<FdScan, 'entries'>>;
  /** Stops the workers of a search that will not be used (the dump failed). */
  cancel(): void;
}

/**
 * Starts a targeted search (findSocketHolders): on hosts with many sockets
 * its workers start booting now, while the caller waits for the kernel's dump
 * that names the inodes to look for. `shareCaller` as for startFdScan.
 */
export function startHolderSearch(
  procRoot = '/proc',
  options: { shareCaller?: boolean } = {},
): PendingHolderSearch {
  const parts = partsFor(procRoot, options.shareCaller);
  const own = parts === 1 || options.shareCaller === true;
  const workers: Worker[] = [];
  for (let part = own ? 1 : 0; part < parts; part++) {
    // Not holding the process open until there is something to find: a
    // search the caller drops (its dump failed) must not keep it alive.
    const worker = startWorker(procRoot, part, parts, true);
    worker.unref();
    workers.push(worker);
  }
  return {
    async find(targets) {
      const search = new HolderSearch(targets, parts);
      const results = workers.map((worker) => workerResult<Omit<FdScan, 'entries'>>(worker));
      for (const worker of workers) {
        worker.ref();
        worker.postMessage({ targets, buffer: search.buffer });
      }
      if (own) results.push(Promise.resolve(findSocketHolders(search, procRoot, 0, parts)));
      return { keys: search.best, ...sumSkips(await Promise.all(results)) };
    },
    cancel() {
      for (const worker of workers) void worker.terminate();
    },
  };
}

function sumSkips(results: Omit<FdScan, 'entries'>[]): Omit<FdScan, 'entries'> {
  return {
    vanishedProcesses: results.reduce((n, r) => n + r.vanishedProcesses, 0),
    unreadableFds: results.reduce((n, r) => n + r.unreadableFds, 0),
  };
}

/** "TCP: inuse 13 orphan 0 tw 11088 alloc 16 mem 73" in /proc/net/sockstat: sockets held by processes. */
function countAllocatedSockets(procRoot: string): number {
  try {
    const text = readFileSync(`${procRoot}/net/sockstat`, 'latin1');
    const match = /^TCP: .*\balloc (\d+)/m.exec(text);
    return match ? Number(match[1]) : Number.POSITIVE_INFINITY;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

type WorkerScan = Omit<FdScan, 'entries'> & { entries: Float64Array };

function startWorker(procRoot: string, part: number, parts: number, targeted: boolean): Worker {
  return new Worker(WORKER_URL, { workerData: { procRoot, part, parts, targeted } });
}

function workerResult<T>(worker: Worker): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the fd scan worker exited with code ${code}`)));
  });
}

export interface AttributionOptions {
  procRoot?: string;
  /**
   * A full scan started earlier with startFdScan, or a search started with
   * startHolderSearch; else a search (on the calling thread, or workers on
   * big hosts) is started now for these sockets' inodes.
   */
  scan?: PendingFdScan | PendingHolderSearch;
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
  const skipped = options.skipped;
  const inodes: number[] = [];
  for (const socket of sockets) if (socket.inode !== 0) inodes.push(socket.inode);
  const holders = await findHolders(inodes, options);
  if (holders.size === 0) return;
  const aged = new Set(options.heldSinceStates ?? []);
  const byPid = new Map<number, TcpSocket[]>();
  for (const socket of sockets) {
    const key = socket.inode === 0 ? undefined : holders.get(socket.inode);
    if (key === undefined) continue;
    const { pid, fd } = holderOf(key);
    socket.pid = pid;
    socket.fd = fd;
    let held = byPid.get(pid);
    if (held === undefined) {
      held = [];
      byPid.set(pid, held);
    }
    held.push(socket);
    if (aged.has(socket.state)) {
      try {
        socket.heldSince = Math.round(lstatSync(`${root}/${pid}/fd/${fd}`).ctimeMs);
      } catch {
        skipped.unreadableFds += 1;
      }
    }
  }
  for (const [pid, held] of byPid) {
    const name = processName(root, pid, skipped);
    for (const socket of held) socket.process = name;
  }
}

/**
 * inode -> holderKey of the process holding it, for the given inodes (a full
 * scan may answer for more): the join under attributeSockets and
 * summarizeProcesses.
 */
export async function findHolders(
  inodes: readonly number[],
  options: AttributionOptions,
): Promise<Map<number, number>> {
  const skipped = options.skipped;
  const scan = options.scan ?? startHolderSearch(options.procRoot);
  const holders = new Map<number, number>();
  if ('find' in scan) {
    const unique = [...new Set(inodes)];
    const found = await scan.find(unique);
    skipped.vanishedProcesses += found.vanishedProcesses;
    skipped.unreadableFds += found.unreadableFds;
    for (let i = 0; i < unique.length; i++)
      if (found.keys[i]! > 0n) holders.set(unique[i]!, Number(found.keys[i]));
    return holders;
  }
  const found = await scan.result;
  skipped.vanishedProcesses += found.vanishedProcesses;
  skipped.unreadableFds += found.unreadableFds;
  const entries = found.entries;
  for (let i = 0; i < entries.length; i += 3) {
    const key = holderKey(entries[i + 1]!, entries[i + 2]!);
    if (!((holders.get(entries[i]!) ?? 0) >= key)) holders.set(entries[i]!, key);
  }
  return holders;
}

/** The kernel's name of a process (/proc/PID/comm), or "?" (counted) once it has exited. */
export function processName(root: string, pid: number, skipped: SkipCounts): string {
  const name = readComm(`${root}/${pid}/comm`);
  if (name === undefined) skipped.vanishedProcesses += 1;
  return name ?? '?';
}

function readComm(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1').trimEnd();
  } catch {
    return undefined;
  }
}
