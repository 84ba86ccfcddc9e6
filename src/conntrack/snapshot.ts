/**
 * takeSnapshot: every TCP socket now, from the fastest backend for the
 * question, with the others as fallbacks; takeStateCounts: only the counts.
 *
 * Measured at 50,000 loopback sockets (bench/sockets.ts, docs/benchmarks.md):
 * the kernel's binary netlink dump through `ss -tan -D -` (netlink-reader.ts)
 * beats reading /proc/net/tcp* for every question (all sockets, counts, a few
 * states, where the kernel filters), and beats `ss` text. /proc is the
 * fallback when ss is missing or the dump fails, `ss` text the last resort
 * when /proc cannot be read either.
 *
 * With attribution of every socket, ss is started first: it dumps the
 * sockets in its own process while this one scans /proc/PID/fd (inline, or
 * also in workers on big hosts; measured in docs/benchmarks.md). With a state
 * filter the search for the holders waits for the dump and looks for its
 * inodes only (process-attribution.ts).
 */
import { type NetlinkDump, startNetlinkDump } from './netlink-dump.ts';
import { countNetlinkStates, readNetlinkSockets } from './netlink-reader.ts';
import {
  emptySkipCounts,
  type SkipCounts,
  type SocketSnapshot,
  type SocketSource,
  type TcpSocket,
} from './socket.ts';
import { emptyStateCounts, STATE_BY_NUMBER, TCP_STATES, type TcpState } from './tcp-state.ts';

export type SnapshotBackend = 'auto' | SocketSource;

/** Tried in this order by 'auto'. */
const FALLBACK_ORDER: readonly SocketSource[] = ['netlink', 'proc', 'ss'];

export interface SnapshotOptions {
  /** Find the owning process of each socket (reads /proc/PID/fd). */
  attribute?: boolean;
  /** Only these states; undefined or empty means all. */
  states?: TcpState[];
  /** Force a backend; 'auto' takes the fastest that works. */
  backend?: SnapshotBackend;
  /** For sockets in these states, record how long their process has held them. */
  heldSinceStates?: TcpState[];
  /**
   * Block the calling thread where that is fastest (the /proc reads, a share
   * of the fd scan): for one-shot commands, not inside serve.
   */
  blocking?: boolean;
  procRoot?: string;
  ssPath?: string;
  /**
   * The netlink dump for these states, already started by the caller
   * (startNetlinkDump): a one-shot command starts it before loading this.
   */
  dump?: Promise<NetlinkDump>;
}

export async function takeSnapshot(options: SnapshotOptions = {}): Promise<SocketSnapshot> {
  const states = options.states?.length ? [...new Set(options.states)] : undefined;
  const skipped = emptySkipCounts();
  const takenAt = Date.now();
  const order = backendOrder(options.backend);
  const dump =
    order[0] === 'netlink'
      ? (options.dump ?? startNetlinkDump({ states, ssPath: options.ssPath }))
      : undefined;
  // Loaded only when asked for: start-up time is most of a small CLI run.
  const attribution = options.attribute ? await import('./process-attribution.ts') : undefined;
  // Every socket: scan every fd while ss dumps. A few states: the kernel's
  // filtered dump is short, so wait for it and look for its inodes only.
  const start = states === undefined ? attribution?.startFdScan : attribution?.startHolderSearch;
  const scan = start?.(options.procRoot, { shareCaller: options.blocking });
  let read: { source: SocketSource; value: TcpSocket[] };
  try {
    read = await withFallback(order, (backend) =>
      readSockets(backend, states, options, skipped, dump),
    );
  } catch (error) {
    if (scan !== undefined && 'cancel' in scan) scan.cancel();
    throw error;
  }
  const { source, value: sockets } = read;
  if (attribution) {
    await attribution.attributeSockets(sockets, {
      procRoot: options.procRoot,
      scan,
      heldSinceStates: options.heldSinceStates,
      skipped,
    });
  }
  const snapshot: SocketSnapshot = {
    takenAt,
    source,
    attributed: options.attribute === true,
    sockets,
    skipped,
  };
  if (states) snapshot.states = states;
  return snapshot;
}

export interface StateCounts {
  takenAt: number;
  source: SocketSource;
  states: Record<TcpState, number>;
  skipped: SkipCounts;
}

/** Counts by state without building a socket object each: the cheapest question. */
export async function takeStateCounts(
  options: Pick<SnapshotOptions, 'backend' | 'blocking' | 'procRoot' | 'ssPath' | 'dump'> = {},
): Promise<StateCounts> {
  const skipped = emptySkipCounts();
  const takenAt = Date.now();
  const { source, value: states } = await withFallback(
    backendOrder(options.backend),
    async (backend) => {
      const states = emptyStateCounts();
      if (backend === 'ss') {
        const { readSsSockets } = await import('./ss-reader.ts');
        for (const socket of await readSsSockets({ skipped, ssPath: options.ssPath }))
          states[socket.state] += 1;
        return states;
      }
      const counts =
        backend === 'netlink'
          ? await countNetlinkStates({ skipped, ssPath: options.ssPath, dump: options.dump })
          : await (await import('./proc-reader.ts')).countProcStates({ ...options, skipped });
      for (let n = 1; n < counts.length; n++) states[STATE_BY_NUMBER[n]!] = counts[n]!;
      return states;
    },
  );
  return { takenAt, source, states, skipped };
}

function backendOrder(backend: SnapshotBackend = 'auto'): readonly SocketSource[] {
  return backend === 'auto' ? FALLBACK_ORDER : [backend];
}

/** Runs the backends in order until one answers; else throws the first one's error. */
async function withFallback<T>(
  order: readonly SocketSource[],
  run: (backend: SocketSource) => Promise<T>,
): Promise<{ source: SocketSource; value: T }> {
  let first: unknown;
  for (const backend of order) {
    try {
      return { source: backend, value: await run(backend) };
    } catch (error) {
      first ??= error;
    }
  }
  throw first;
}

async function readSockets(
  backend: SocketSource,
  states: TcpState[] | undefined,
  options: SnapshotOptions,
  skipped: SkipCounts,
  dump: Promise<NetlinkDump> | undefined,
): Promise<TcpSocket[]> {
  if (backend === 'netlink')
    return readNetlinkSockets({ states, skipped, ssPath: options.ssPath, dump });
  if (backend === 'ss') {
    const { readSsSockets } = await import('./ss-reader.ts');
    return readSsSockets({ states, skipped, ssPath: options.ssPath });
  }
  const { readProcSockets } = await import('./proc-reader.ts');
  return readProcSockets({
    procRoot: options.procRoot,
    blocking: options.blocking,
    mask: stateMask(states),
    skipped,
  });
}

function stateMask(states: TcpState[] | undefined): Uint8Array | undefined {
  if (states === undefined) return undefined;
  const mask = new Uint8Array(TCP_STATES.length + 1);
  for (const state of states) mask[TCP_STATES.indexOf(state) + 1] = 1;
  return mask;
}
