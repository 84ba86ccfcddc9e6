/**
 * Finds which process holds each socket by joining the snapshot's inodes with
 * a scan of every /proc/PID/fd (fd-scan.ts). takeSnapshot starts the scan
 * (startFdScan) after starting `ss`, so the kernel's socket dump and the scan
 * run at once. On hosts with many sockets the scan is split over worker
 * threads (and the calling thread, in the CLI). Only done when attribution is
 * asked for.
 */
import { lstatSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type FdScan, scanSocketFds } from './fd-scan.ts';
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
 * The threshold, or KEEPWIRE_FD_SCAN_WORKERS_FROM (a count of sockets) when
 * set: lets a test or an operator run the worker path on a small host.
 */
function workerThreshold(): number {
  const configured = process.env.KEEPWIRE_FD_SCAN_WORKERS_FROM;
  const value = configured === undefined ? Number.NaN : Number(configured);
  return Number.isInteger(value) && value >= 0 ? value : WORKER_THRESHOLD_SOCKETS;
}

/** The worker's module next to this one, as sources (.ts) or as the build (.js). */
const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './fd-scan-worker.ts' : './fd-scan-worker.js',
  import.meta.url,
);

/**
 * Starts scanning every process's fds. On small hosts, on the calling thread,
 * at once: a worker's start-up would cost more than the whole scan. On hosts
 * with many sockets, in parts split evenly (every process's fds dealt out),
 * one per core, at most 4: with `shareCaller` the calling thread scans the
 * first part itself before returning (fastest for a one-shot command: the
 * CLI has nothing else to do), else workers scan every part and the caller's
 * event loop stays free (`keepwire serve`).
 */
export function startFdScan(
  procRoot = '/proc',
  options: { shareCaller?: boolean } = {},
): PendingFdScan {
  if (countAllocatedSockets(procRoot) < workerThreshold()) {
    const scan = scanSocketFds(procRoot);
    return { result: Promise.resolve({ ...scan, entries: Float64Array.from(scan.entries) }) };
  }
  const parts = Math.max(1, Math.min(availableParallelism(), 4));
  const first = options.shareCaller ? 1 : 0;
  const scans: Promise<WorkerScan>[] = [];
  for (let part = first; part < parts; part++) scans.push(runWorker(procRoot, part, parts));
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
    return {
      entries,
      vanishedProcesses: results.reduce((n, r) => n + r.vanishedProcesses, 0),
      unreadableFds: results.reduce((n, r) => n + r.unreadableFds, 0),
    };
  });
  result.catch(() => {}); // awaited by attributeSockets; never an unhandled rejection meanwhile
  return { result };
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

function runWorker(procRoot: string, part: number, parts: number): Promise<WorkerScan> {
  const worker = new Worker(WORKER_URL, {
    workerData: { procRoot, part, parts },
  });
  return new Promise<WorkerScan>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the fd scan worker exited with code ${code}`)));
  });
}

export interface AttributionOptions {
  procRoot?: string;
  /** A scan started earlier with startFdScan; else one is started now. */
  scan?: PendingFdScan;
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
  const scan = await (options.scan ?? startFdScan(root)).result;
  const skipped = options.skipped;
  skipped.vanishedProcesses += scan.vanishedProcesses;
  skipped.unreadableFds += scan.unreadableFds;
  const byInode = new Map<number, TcpSocket>();
  for (const socket of sockets) if (socket.inode !== 0) byInode.set(socket.inode, socket);
  if (byInode.size === 0) return;
  const aged = new Set(options.heldSinceStates ?? []);
  const holders = new Map<number, TcpSocket[]>();
  const entries = scan.entries;
  for (let i = 0; i < entries.length; i += 3) {
    const socket = byInode.get(entries[i]!);
    if (socket === undefined) continue;
    const pid = entries[i + 1]!;
    socket.pid = pid;
    socket.fd = entries[i + 2]!;
    let held = holders.get(pid);
    if (held === undefined) {
      held = [];
      holders.set(pid, held);
    }
    held.push(socket);
    if (aged.has(socket.state)) {
      try {
        socket.heldSince = Math.round(lstatSync(`${root}/${pid}/fd/${socket.fd}`).ctimeMs);
      } catch {
        skipped.unreadableFds += 1;
      }
    }
  }
  for (const [pid, held] of holders) {
    const name = readComm(`${root}/${pid}/comm`);
    if (name === undefined) skipped.vanishedProcesses += 1;
    for (const socket of held) socket.process = name ?? '?';
  }
}

function readComm(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1').trimEnd();
  } catch {
    return undefined;
  }
}
