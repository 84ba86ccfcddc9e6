/**
 * summarizeSnapshot: the `keepwire sockets --json` object. Counts by state,
 * optionally filtered by state and port, and the largest groups by process,
 * remote endpoint, local port or state.
 */
import type { StateCounts } from './snapshot.ts';
import {
  formatEndpoint,
  type SkipCounts,
  type SocketSnapshot,
  type SocketSource,
  type TcpSocket,
} from './socket.ts';
import { emptyStateCounts, type TcpState } from './tcp-state.ts';

export const GROUP_KEYS = ['process', 'remote', 'local-port', 'state'] as const;
export type GroupBy = (typeof GROUP_KEYS)[number];

export interface SummaryOptions {
  by?: GroupBy;
  state?: TcpState;
  /** Keep sockets whose local or remote port is this. */
  port?: number;
  /** How many groups to list (largest first); default 20. */
  top?: number;
}

export type SocketGroup =
  | { pid: number; process: string; count: number; states: Partial<Record<TcpState, number>> }
  | { remote: string; count: number; states: Partial<Record<TcpState, number>> }
  | { localPort: number; count: number; states: Partial<Record<TcpState, number>> }
  | { state: TcpState; count: number };

export interface SocketSummary {
  total: number;
  states: Record<TcpState, number>;
  takenAt: string;
  source: SocketSource;
  filter: { state?: TcpState; port?: number };
  skipped: SkipCounts;
  by?: GroupBy;
  groups?: SocketGroup[];
  /** How many groups there were before `top` cut the list. */
  groupCount?: number;
  /** With --by process: sockets no visible process holds (TIME_WAIT, other users' without root). */
  unattributed?: number;
  /** `keepwire serve`'s light samples: groups and port filters see these states' sockets as read at `takenAt`. */
  carried?: { states: TcpState[]; takenAt: string };
}

export function summarizeSnapshot(
  snapshot: SocketSnapshot,
  options: SummaryOptions = {},
): SocketSummary {
  const { state, port } = options;
  const states = emptyStateCounts();
  const kept: TcpSocket[] = [];
  for (const socket of snapshot.sockets) {
    if (state !== undefined && socket.state !== state) continue;
    if (port !== undefined && socket.localPort !== port && socket.remotePort !== port) continue;
    states[socket.state] += 1;
    kept.push(socket);
  }
  const grouped = options.by === undefined ? undefined : group(kept, options.by);
  const { counts, carried } = snapshot;
  // serve's light samples: this sample's counts; the carried states' sockets as the last full sample read them.
  if (counts !== undefined && port === undefined)
    for (const name in states) {
      const s = name as TcpState;
      states[s] = state === undefined || state === s ? counts[s] : 0;
    }
  const summary = assembleSummary(snapshot, states, options, grouped);
  if (carried !== undefined)
    summary.carried = { states: carried.states, takenAt: new Date(carried.takenAt).toISOString() };
  return summary;
}

/**
 * The summary object from counts by state and, when grouped, every group:
 * the end of summarizeSnapshot and of the fast paths that count without a
 * socket object (summarizeCounts, summarizeProcesses), so all give one shape.
 */
export function assembleSummary(
  taken: { takenAt: number; source: SocketSource; skipped: SkipCounts },
  states: Record<TcpState, number>,
  options: SummaryOptions,
  grouped?: { groups: SocketGroup[]; unattributed: number },
): SocketSummary {
  let total = 0;
  for (const state in states) total += states[state as TcpState];
  const summary: SocketSummary = {
    total,
    states,
    takenAt: new Date(taken.takenAt).toISOString(),
    source: taken.source,
    filter: {},
    skipped: { ...taken.skipped },
  };
  if (options.state !== undefined) summary.filter.state = options.state;
  if (options.port !== undefined) summary.filter.port = options.port;
  if (options.by !== undefined && grouped !== undefined) {
    const groups = rankGroups(grouped.groups);
    summary.by = options.by;
    summary.groupCount = groups.length;
    summary.groups = groups.slice(0, options.top ?? 20);
    if (options.by === 'process') summary.unattributed = grouped.unattributed;
  }
  return summary;
}

/** The same object as summarizeSnapshot(snapshot) with no options, from counts alone. */
export function summarizeCounts(counts: StateCounts): SocketSummary {
  return assembleSummary(counts, { ...counts.states }, {});
}

interface Bucket {
  group: SocketGroup;
  states: Partial<Record<TcpState, number>>;
}

function group(sockets: TcpSocket[], by: GroupBy): { groups: SocketGroup[]; unattributed: number } {
  const buckets = new Map<string | number, Bucket>();
  let unattributed = 0;
  for (const socket of sockets) {
    let key: string | number;
    if (by === 'process') {
      if (socket.pid === undefined) {
        unattributed += 1;
        continue;
      }
      key = socket.pid;
    } else if (by === 'remote') key = formatEndpoint(socket.remoteAddress, socket.remotePort);
    else if (by === 'local-port') key = socket.localPort;
    else key = socket.state;
    let bucket = buckets.get(key);
    if (bucket === undefined) {
      const states: Partial<Record<TcpState, number>> = {};
      const base =
        by === 'process'
          ? { pid: socket.pid!, process: socket.process ?? '?', count: 0, states }
          : by === 'remote'
            ? { remote: key as string, count: 0, states }
            : by === 'local-port'
              ? { localPort: socket.localPort, count: 0, states }
              : { state: socket.state, count: 0 };
      bucket = { group: base, states };
      buckets.set(key, bucket);
    }
    bucket.group.count += 1;
    bucket.states[socket.state] = (bucket.states[socket.state] ?? 0) + 1;
  }
  return { groups: [...buckets.values()].map((b) => b.group), unattributed };
}

/** Largest first; ties by pid, remote, port or state, so the order never depends on the input's. */
function rankGroups(groups: SocketGroup[]): SocketGroup[] {
  return groups.sort((a, b) => b.count - a.count || sortKey(a).localeCompare(sortKey(b)));
}

function sortKey(group: SocketGroup): string {
  if ('pid' in group) return String(group.pid).padStart(10, '0');
  if ('remote' in group) return group.remote;
  if ('localPort' in group) return String(group.localPort).padStart(5, '0');
  return group.state;
}
