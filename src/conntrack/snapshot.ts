/**
 * takeSnapshot: every TCP socket now, from the faster backend for the
 * question, with the other as fallback.
 *
 * Measured at 50,000 loopback sockets (bench/sockets.ts, docs/benchmarks.md):
 * for all states, reading /proc/net/tcp* and parsing it in-process beats
 * spawning `ss` and parsing its text; for a few states, `ss ... state NAME`
 * wins by far because the kernel filters before formatting anything.
 */

import { readProcSockets } from './proc-reader.ts';
import { attributeSockets } from './process-attribution.ts';
import { emptySkipCounts, type SkipCounts, type SocketSnapshot, type TcpSocket } from './socket.ts';
import { readSsSockets } from './ss-reader.ts';
import { TCP_STATES, type TcpState } from './tcp-state.ts';

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
  procRoot?: string;
  ssPath?: string;
}

export async function takeSnapshot(options: SnapshotOptions = {}): Promise<SocketSnapshot> {
  const states = options.states?.length ? [...new Set(options.states)] : undefined;
  const skipped = emptySkipCounts();
  const takenAt = Date.now();
  const preferred = chooseBackend(options.backend ?? 'auto', states);
  let source = preferred;
  let sockets: TcpSocket[];
  try {
    sockets = await read(preferred, states, options, skipped);
  } catch (error) {
    if (options.backend !== undefined && options.backend !== 'auto') throw error;
    source = preferred === 'ss' ? 'proc' : 'ss';
    try {
      sockets = await read(source, states, options, skipped);
    } catch {
      throw error;
    }
  }
  if (options.attribute) {
    await attributeSockets(sockets, {
      procRoot: options.procRoot,
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

function chooseBackend(backend: SnapshotBackend, states: TcpState[] | undefined): 'proc' | 'ss' {
  if (backend !== 'auto') return backend;
  // A kernel-side filter only pays while it drops most sockets.
  return states !== undefined && states.length <= 4 ? 'ss' : 'proc';
}

function read(
  backend: 'proc' | 'ss',
  states: TcpState[] | undefined,
  options: SnapshotOptions,
  skipped: SkipCounts,
): Promise<TcpSocket[]> {
  if (backend === 'ss') return readSsSockets({ states, skipped, ssPath: options.ssPath });
  return readProcSockets({ procRoot: options.procRoot, mask: stateMask(states), skipped });
}

function stateMask(states: TcpState[] | undefined): Uint8Array | undefined {
  if (states === undefined) return undefined;
  const mask = new Uint8Array(TCP_STATES.length + 1);
  for (const state of states) mask[TCP_STATES.indexOf(state) + 1] = 1;
  return mask;
}
