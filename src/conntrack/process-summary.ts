/**
 * summarizeProcesses: `keepwire sockets --by process` (with or without one
 * state, a port) as counts, without an object or an address string per
 * socket. The answer is the object summarizeSnapshot gives for
 * takeSnapshot({attribute: true}) with the same options; only the way there
 * is shorter: the kernel's dump is decoded into columns (state, inode, ports:
 * netlink-parser.ts), joined with the holders the fd scan or the search found
 * (process-attribution.ts), and counted per process. At 50,000 sockets the
 * objects and the garbage they leave cost a CLI run tens of milliseconds
 * (docs/benchmarks.md).
 *
 * Netlink only: when the dump fails it throws, and the caller asks
 * takeSnapshot, which falls back to /proc and `ss` text.
 */

import { holderOf } from './fd-scan.ts';
import { type NetlinkDump, startNetlinkDump } from './netlink-dump.ts';
import type { SocketColumns } from './netlink-parser.ts';
import { readNetlinkColumns } from './netlink-reader.ts';
import { findHolders, processName, startFdScan, startHolderSearch } from './process-attribution.ts';
import { emptySkipCounts } from './socket.ts';
import { assembleSummary, type SocketGroup, type SocketSummary } from './summary.ts';
import { emptyStateCounts, STATE_BY_NUMBER, type TcpState } from './tcp-state.ts';

export interface ProcessSummaryOptions {
  /** Only sockets in this state: the kernel filters, the search looks for their holders only. */
  state?: TcpState;
  /** Only sockets whose local or remote port is this. */
  port?: number;
  top?: number;
  /** Scan a share of the fds on the calling thread (one-shot commands). */
  blocking?: boolean;
  procRoot?: string;
  ssPath?: string;
  /** The dump for `state`, already started by the caller (startNetlinkDump). */
  dump?: Promise<NetlinkDump>;
}

type ProcessGroup = Extract<SocketGroup, { pid: number }>;

export async function summarizeProcesses(
  options: ProcessSummaryOptions = {},
): Promise<SocketSummary> {
  const takenAt = Date.now();
  const states = options.state === undefined ? undefined : [options.state];
  const skipped = emptySkipCounts();
  const root = options.procRoot ?? '/proc';
  const dump = options.dump ?? startNetlinkDump({ states, ssPath: options.ssPath });
  const start = states === undefined ? startFdScan : startHolderSearch;
  const scan = start(root, { shareCaller: options.blocking });
  let columns: SocketColumns;
  try {
    columns = await readNetlinkColumns({ skipped, dump });
  } catch (error) {
    if ('cancel' in scan) scan.cancel();
    throw error;
  }
  // The sockets the filter keeps, their counts by state and their inodes.
  const counts = emptyStateCounts();
  const kept = new Int32Array(columns.length);
  let keptCount = 0;
  const inodes: number[] = [];
  const port = options.port;
  for (let i = 0; i < columns.length; i++) {
    if (port !== undefined && columns.localPorts[i] !== port && columns.remotePorts[i] !== port)
      continue;
    const state = STATE_BY_NUMBER[columns.states[i]!]!;
    if (options.state !== undefined && state !== options.state) continue;
    kept[keptCount++] = i;
    counts[state] += 1;
    if (columns.inodes[i] !== 0) inodes.push(columns.inodes[i]!);
  }
  const holders = await findHolders(inodes, { procRoot: root, scan, skipped });
  const groups = new Map<number, ProcessGroup>();
  let unattributed = 0;
  for (let k = 0; k < keptCount; k++) {
    const i = kept[k]!;
    const key = columns.inodes[i] === 0 ? undefined : holders.get(columns.inodes[i]!);
    if (key === undefined) {
      unattributed += 1;
      continue;
    }
    const pid = holderOf(key).pid;
    let group = groups.get(pid);
    if (group === undefined) {
      group = { pid, process: '?', count: 0, states: {} };
      groups.set(pid, group);
    }
    const state = STATE_BY_NUMBER[columns.states[i]!]!;
    group.count += 1;
    group.states[state] = (group.states[state] ?? 0) + 1;
  }
  for (const group of groups.values()) group.process = processName(root, group.pid, skipped);
  return assembleSummary(
    { takenAt, source: 'netlink', skipped },
    counts,
    { ...options, by: 'process' },
    { groups: [...groups.values()], unattributed },
  );
}
