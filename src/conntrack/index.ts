/**
 * The watch plane's public surface. Other planes use only these; every result
 * is plain JSON-serialisable data, identical to the CLI's --json. (The CLI
 * imports the modules behind them directly, so a `keepwire sockets` run never
 * loads prom-client or fastify, which this file pulls in with the plane.)
 */
export { type DiagnoseOptions, type Diagnosis, diagnose } from './diagnose.ts';
export type {
  CloseWaitLeak,
  Finding,
  FinWait2Orphans,
  Severity,
  SynBacklogPressure,
  TimeWaitPressure,
} from './findings.ts';
export {
  type SnapshotOptions,
  type StateCounts,
  takeSnapshot,
  takeStateCounts,
} from './snapshot.ts';
export type { SkipCounts, SocketSnapshot, TcpSocket } from './socket.ts';
export {
  GROUP_KEYS,
  type GroupBy,
  type SocketGroup,
  type SocketSummary,
  type SummaryOptions,
  summarizeCounts,
  summarizeSnapshot,
} from './summary.ts';
export type { CheckStatus, SysctlAudit, SysctlCheck } from './sysctl-audit.ts';
export { auditSysctl } from './sysctl-reader.ts';
export { parseTcpState, TCP_STATES, type TcpState, toTcpState } from './tcp-state.ts';
export { createWatchPlane } from './watch-plane.ts';
