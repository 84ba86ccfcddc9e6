/**
 * takeSnapshot: every TCP socket now, from the faster backend for the
 * question, with the other as fallback; takeStateCounts: only the counts.
 *
 * Measured at 50,000 loopback sockets (bench/sockets.ts, docs/benchmarks.md):
 * for all states, reading /proc/net/tcp* in-process beats spawning `ss` and
 * parsing its text; for a few states, `ss ... state NAME` wins by far because
 * the kernel filters before formatting anything.
 */
import { countProcStates, readProcSockets } from './proc-reader.ts';
import { emptySkipCounts, type SkipCounts, type SocketSnapshot, type TcpSocket } from './socket.ts';
import { emptyStateCounts, STATE_BY_NUMBER, TCP_STATES, type TcpState } from './tcp-state.ts';

export type SnapshotBackend = 'auto' | 'proc' | 'ss';

export interface SnapshotOptions {
  /** Find the owning process of each socket (reads /proc/PID/fd). */
  attribute?: boolean;
  /** Only these states; undefined or empty means all. */
  states?: TcpState[];
  /** Force a backend; 'auto' picks the faster for the question. */
  backend?: SnapshotBackend;
  /** For sockets in these states, record how long their process has held them. */
  heldSinceStates?: TcpState[];
  /** Read /proc with blocking syscalls: fastest, for one-shot commands; not inside serve. */
  blocking?: boolean;
  procRoot?: string;
  ssPath?: string;
}

export async function takeSnapshot(options: SnapshotOptions = {}): Promise<SocketSnapshot> {
  const states = options.states?.length ? [...new Set(options.states)] : undefined;
  const skipped = emptySkipCounts();
  const takenAt = Date.now();
  // The fd scan (a worker thread) runs while /proc/net/tcp is read.
  // Loaded only when asked for: start-up time is most of a small CLI run.
  const attribution = options.attribute ? await import('./process-attribution.ts') : undefined;
  const scan = attribution?.startFdScan(options.procRoot);
  const { source, value: sockets } = await withFallback(
    chooseBackend(options.backend ?? 'auto', states),
    options.backend,
    (backend) => read(backend, states, options, skipped),
  );
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
  source: 'proc' | 'ss';
  states: Record<TcpState, number>;
  skipped: SkipCounts;
}

/** Counts by state without building a socket object per line: the cheapest question. */
export async function takeStateCounts(
  options: Pick<SnapshotOptions, 'backend' | 'blocking' | 'procRoot' | 'ssPath'> = {},
): Promise<StateCounts> {
  const skipped = emptySkipCounts();
  const takenAt = Date.now();
  const { source, value: states } = await withFallback(
    chooseBackend(options.backend ?? 'auto', undefined),
    options.backend,
    async (backend) => {
      const states = emptyStateCounts();
      if (backend === 'proc') {
        const counts = await countProcStates({ ...options, skipped });
        for (let n = 1; n < counts.length; n++) states[STATE_BY_NUMBER[n]!] = counts[n]!;
      } else {
        const { readSsSockets } = await import('./ss-reader.ts');
        for (const socket of await readSsSockets({ skipped, ssPath: options.ssPath }))
          states[socket.state] += 1;
      }
      return states;
    },
  );
  return { takenAt, source, states, skipped };
}

async function withFallback<T>(
  preferred: 'proc' | 'ss',
  forced: SnapshotBackend | undefined,
  run: (backend: 'proc' | 'ss') => Promise<T>,
): Promise<{ source: 'proc' | 'ss'; value: T }> {
  try {
    return { source: preferred, value: await run(preferred) };
  } catch (error) {
    if (forced !== undefined && forced !== 'auto') throw error;
    const other = preferred === 'ss' ? 'proc' : 'ss';
    try {
      return { source: other, value: await run(other) };
    } catch {
      throw error;
    }
  }
}

function chooseBackend(backend: SnapshotBackend, states: TcpState[] | undefined): 'proc' | 'ss' {
  if (backend !== 'auto') return backend;
  // A kernel-side filter only pays while it drops most sockets.
  return states !== undefined && states.length <= 4 ? 'ss' : 'proc';
}

async function read(
  backend: 'proc' | 'ss',
  states: TcpState[] | undefined,
  options: SnapshotOptions,
  skipped: SkipCounts,
): Promise<TcpSocket[]> {
  if (backend === 'ss') {
    const { readSsSockets } = await import('./ss-reader.ts');
    return readSsSockets({ states, skipped, ssPath: options.ssPath });
  }
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
