/**
 * The watch plane's public surface. Other planes and the CLI use only these;
 * every result is plain JSON-serialisable data, identical to the CLI's --json.
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
export { type SnapshotOptions, takeSnapshot } from './snapshot.ts';
export type { SkipCounts, SocketSnapshot, TcpSocket } from './socket.ts';
export {
  GROUP_KEYS,
  type GroupBy,
  type SocketGroup,
  type SocketSummary,
  type SummaryOptions,
  summarizeSnapshot,
} from './summary.ts';
export type { CheckStatus, SysctlAudit, SysctlCheck } from './sysctl-audit.ts';
export { auditSysctl } from './sysctl-reader.ts';
export { parseTcpState, TCP_STATES, type TcpState, toTcpState } from './tcp-state.ts';
export { createWatchPlane } from './watch-plane.ts';
