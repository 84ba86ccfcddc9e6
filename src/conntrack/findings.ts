/**
 * The analyses behind `keepwire sockets diagnose` and `/v1/sockets/findings`,
 * as pure functions of a series of snapshots (oldest first) and a few kernel
 * settings, so they run the same on the CLI's samples and the service's history.
 *
 * Age of a CLOSE_WAIT socket: `oldestAgeMs` is how long it has been SEEN in
 * CLOSE_WAIT (first sample that had it, to the last): a lower bound of its
 * time in that state. `oldestHeldMs`, when known, is the age of the process's
 * fd (ctime of /proc/PID/fd/N): a lower bound of how long the process has held
 * the connection, not of how long it has been in CLOSE_WAIT.
 */
import { formatEndpoint, type SocketSnapshot, type TcpSocket } from './socket.ts';

export type Severity = 'info' | 'warn' | 'critical';

interface FindingBase {
  severity: Severity;
  count: number;
  /** One line of evidence a human can check with `ss`. */
  evidence: string;
  advice: string;
}

export interface CloseWaitLeak extends FindingBase {
  kind: 'close-wait-leak';
  pid: number | null;
  process: string | null;
  remote: string;
  oldestAgeMs: number;
  oldestHeldMs?: number;
  inodes: number[];
}

export interface TimeWaitPressure extends FindingBase {
  kind: 'time-wait-pressure';
  /** `client`: TIME_WAIT toward a remote service, we closed first. `server`: on our listening port, we closed first. */
  closer: 'client' | 'server';
  remote?: string;
  localPort?: number;
  portRangeSize: number;
  /** count / portRangeSize for client-side TIME_WAIT. */
  portRangeUsage?: number;
}

export interface SynBacklogPressure extends FindingBase {
  kind: 'syn-backlog-pressure';
  localPort: number;
  synRecv: number;
  acceptQueue: number;
  backlog: number;
}

export interface FinWait2Orphans extends FindingBase {
  kind: 'fin-wait2-orphans';
  remote: string;
  finTimeoutS: number | null;
}

export type Finding = CloseWaitLeak | TimeWaitPressure | SynBacklogPressure | FinWait2Orphans;

export interface AnalysisContext {
  /** net.ipv4.ip_local_port_range. */
  portRange: [number, number];
  /** net.ipv4.tcp_fin_timeout, if known. */
  finTimeoutS?: number | null;
  /** net.core.somaxconn: the backlog cap when a LISTEN socket's own backlog is unknown. */
  somaxconn?: number;
  /** Report TIME_WAIT per destination from this count; default 10% of the port range. */
  timeWaitMinCount?: number;
}

const RANK: Record<Severity, number> = { critical: 0, warn: 1, info: 2 };

export function analyzeSamples(
  samples: readonly SocketSnapshot[],
  context: AnalysisContext,
): Finding[] {
  const last = samples.at(-1);
  if (last === undefined) return [];
  return analyzeLatest(last, context, findCloseWaitLeaks(samples));
}

/**
 * The analyses of one sample, with its CLOSE_WAIT leaks found already (by
 * findCloseWaitLeaks over a series, or by `keepwire serve`'s running tracker),
 * and its TIME_WAIT pressure when found already (serve's light samples).
 */
export function analyzeLatest(
  last: SocketSnapshot,
  context: AnalysisContext,
  closeWaitLeaks: CloseWaitLeak[],
  timeWait: TimeWaitPressure[] = findTimeWaitPressure(last, context),
): Finding[] {
  const findings: Finding[] = [
    ...closeWaitLeaks,
    ...timeWait,
    ...findSynBacklogPressure(last, context),
    ...findFinWait2Orphans(last, context),
  ];
  return findings.sort((a, b) => RANK[a.severity] - RANK[b.severity] || b.count - a.count);
}

/** What makes two samples' CLOSE_WAIT sockets the same socket: the inode, else the 4-tuple. */
export function closeWaitIdentity(socket: TcpSocket): string | number {
  return socket.inode !== 0
    ? socket.inode
    : `${socket.localAddress}|${socket.localPort}|${socket.remoteAddress}|${socket.remotePort}`;
}

/** CLOSE_WAIT sockets present in the last sample and in at least one before it. */
export function findCloseWaitLeaks(samples: readonly SocketSnapshot[]): CloseWaitLeak[] {
  const last = samples.at(-1);
  if (last === undefined || samples.length < 2) return [];
  // First time each socket was seen in CLOSE_WAIT, in an unbroken run up to the last sample.
  const firstSeen = new Map<string | number, number>();
  for (const socket of last.sockets)
    if (socket.state === 'CLOSE_WAIT') firstSeen.set(closeWaitIdentity(socket), last.takenAt);
  for (let i = samples.length - 2; i >= 0; i--) {
    const sample = samples[i]!;
    const seen = new Set<string | number>();
    for (const socket of sample.sockets)
      if (socket.state === 'CLOSE_WAIT') seen.add(closeWaitIdentity(socket));
    let extended = false;
    for (const [key, at] of firstSeen) {
      if (at === samples[i + 1]!.takenAt && seen.has(key)) {
        firstSeen.set(key, sample.takenAt);
        extended = true;
      }
    }
    if (!extended) break;
  }
  return groupCloseWaitLeaks(last, firstSeen);
}

/**
 * The leak findings of `last`: its CLOSE_WAIT sockets seen before it, by
 * `firstSeen` (closeWaitIdentity -> when the unbroken run in CLOSE_WAIT that
 * reaches `last` began), grouped by process and remote endpoint.
 */
export function groupCloseWaitLeaks(
  last: SocketSnapshot,
  firstSeen: ReadonlyMap<string | number, number>,
): CloseWaitLeak[] {
  const groups = new Map<string, CloseWaitLeak>();
  for (const socket of last.sockets) {
    if (socket.state !== 'CLOSE_WAIT') continue;
    const since = firstSeen.get(closeWaitIdentity(socket)) ?? last.takenAt;
    if (since >= last.takenAt) continue; // seen once: may be closing right now
    const remote = formatEndpoint(socket.remoteAddress, socket.remotePort);
    const key = `${socket.pid ?? '-'}|${remote}`;
    let finding = groups.get(key);
    if (finding === undefined) {
      finding = {
        kind: 'close-wait-leak',
        severity: 'warn',
        pid: socket.pid ?? null,
        process: socket.process ?? null,
        remote,
        count: 0,
        oldestAgeMs: 0,
        inodes: [],
        evidence: '',
        advice: '',
      };
      groups.set(key, finding);
    }
    finding.count += 1;
    finding.oldestAgeMs = Math.max(finding.oldestAgeMs, last.takenAt - since);
    if (socket.heldSince !== undefined)
      finding.oldestHeldMs = Math.max(finding.oldestHeldMs ?? 0, last.takenAt - socket.heldSince);
    if (socket.inode !== 0) finding.inodes.push(socket.inode);
  }
  for (const finding of groups.values()) {
    const held = Math.max(finding.oldestAgeMs, finding.oldestHeldMs ?? 0);
    finding.severity = finding.count >= 100 || held >= 600_000 ? 'critical' : 'warn';
    const who =
      finding.pid === null
        ? 'a process Keepwire could not see (run as root to attribute it)'
        : `${finding.process} (pid ${finding.pid})`;
    finding.evidence = `${finding.count} socket(s) held by ${who} stayed in CLOSE_WAIT toward ${finding.remote} for at least ${Math.round(finding.oldestAgeMs / 1000)} s${finding.oldestHeldMs === undefined ? '' : `; the process has held the oldest for at least ${Math.round(finding.oldestHeldMs / 1000)} s`}`;
    finding.advice =
      `The peer ${finding.remote} closed these connections and ${who} never called close() on its end. ` +
      'Only the owning application can clear CLOSE_WAIT: no kernel setting does (tcp_fin_timeout applies to FIN_WAIT2, not CLOSE_WAIT). ' +
      `Relief: restart ${finding.pid === null ? 'the owning process' : `${finding.process} (pid ${finding.pid})`}. ` +
      "Fix: make its client close idle pooled connections when the peer sends FIN (idle-connection handling / idle timeout shorter than the server's keep-alive) and close() after reading EOF.";
  }
  return [...groups.values()];
}

export function findTimeWaitPressure(
  sample: SocketSnapshot,
  context: AnalysisContext,
): TimeWaitPressure[] {
  const [low, high] = context.portRange;
  const rangeSize = Math.max(1, high - low + 1);
  const minCount = context.timeWaitMinCount ?? Math.ceil(rangeSize / 10);
  const listening = new Set<number>();
  for (const socket of sample.sockets)
    if (socket.state === 'LISTEN') listening.add(socket.localPort);
  const byRemote = new Map<string, number>();
  const byLocalPort = new Map<number, number>();
  for (const socket of sample.sockets) {
    if (socket.state !== 'TIME_WAIT') continue;
    if (listening.has(socket.localPort))
      byLocalPort.set(socket.localPort, (byLocalPort.get(socket.localPort) ?? 0) + 1);
    else {
      const remote = formatEndpoint(socket.remoteAddress, socket.remotePort);
      byRemote.set(remote, (byRemote.get(remote) ?? 0) + 1);
    }
  }
  const findings: TimeWaitPressure[] = [];
  for (const [remote, count] of byRemote) {
    if (count < minCount) continue;
    const usage = count / rangeSize;
    findings.push({
      kind: 'time-wait-pressure',
      severity: usage >= 0.5 ? 'critical' : usage >= 0.2 ? 'warn' : 'info',
      closer: 'client',
      remote,
      count,
      portRangeSize: rangeSize,
      portRangeUsage: Math.round(usage * 1000) / 1000,
      evidence: `${count} TIME_WAIT sockets toward ${remote} use ${(usage * 100).toFixed(1)}% of the ${rangeSize} ephemeral ports (${low}-${high}); TIME_WAIT is on our side, so this host closes first`,
      advice:
        `This host opens and closes a connection per request to ${remote}. Reuse connections (HTTP keep-alive, a connection pool) so few are closed; ` +
        'if that cannot change soon, net.ipv4.tcp_tw_reuse=1 lets new outgoing connections reuse TIME_WAIT safely. Never tcp_tw_recycle (removed in 4.12, broke NAT). ' +
        'Widening net.ipv4.ip_local_port_range buys room but not a fix.',
    });
  }
  for (const [localPort, count] of byLocalPort) {
    if (count < minCount) continue;
    findings.push({
      kind: 'time-wait-pressure',
      severity: 'info',
      closer: 'server',
      localPort,
      count,
      portRangeSize: rangeSize,
      evidence: `${count} TIME_WAIT sockets on our listening port ${localPort}: the server side closes first`,
      advice:
        'Server-side TIME_WAIT does not consume ephemeral ports here, only memory and tcp_max_tw_buckets. Let clients close first (HTTP/1.1 keep-alive) to move it to them.',
    });
  }
  return findings;
}

export function findSynBacklogPressure(
  sample: SocketSnapshot,
  context: AnalysisContext,
): SynBacklogPressure[] {
  const synRecv = new Map<number, number>();
  for (const socket of sample.sockets)
    if (socket.state === 'SYN_RECV')
      synRecv.set(socket.localPort, (synRecv.get(socket.localPort) ?? 0) + 1);
  const findings: SynBacklogPressure[] = [];
  for (const socket of sample.sockets) {
    if (socket.state !== 'LISTEN') continue;
    const backlog = socket.backlog ?? context.somaxconn ?? 4096;
    const pending = synRecv.get(socket.localPort) ?? 0;
    const acceptQueue = socket.rxQueue;
    const full = acceptQueue >= backlog;
    if (!full && acceptQueue < backlog / 2 && pending < Math.max(8, backlog / 2)) continue;
    const endpoint = formatEndpoint(socket.localAddress, socket.localPort);
    findings.push({
      kind: 'syn-backlog-pressure',
      severity: full ? 'critical' : 'warn',
      localPort: socket.localPort,
      count: acceptQueue + pending,
      synRecv: pending,
      acceptQueue,
      backlog,
      evidence: `${endpoint}: ${acceptQueue} connections wait for accept() (backlog ${backlog}${socket.backlog === undefined ? ', capped by net.core.somaxconn' : ''}), ${pending} in SYN_RECV`,
      advice: full
        ? 'The accept queue is full: new connections are dropped or time out. The application is not calling accept() fast enough (blocked event loop, too few workers); raise its listen() backlog and net.core.somaxconn only after fixing that.'
        : 'The accept queue is filling: check that the application accepts promptly; keep net.ipv4.tcp_syncookies=1 against SYN floods.',
    });
  }
  return findings;
}

export function findFinWait2Orphans(
  sample: SocketSnapshot,
  context: AnalysisContext,
): FinWait2Orphans[] {
  const byRemote = new Map<string, number>();
  for (const socket of sample.sockets) {
    if (socket.state !== 'FIN_WAIT2' || socket.inode !== 0) continue;
    const remote = formatEndpoint(socket.remoteAddress, socket.remotePort);
    byRemote.set(remote, (byRemote.get(remote) ?? 0) + 1);
  }
  const timeout = context.finTimeoutS ?? null;
  return [...byRemote].map(([remote, count]) => ({
    kind: 'fin-wait2-orphans' as const,
    severity: count >= 1000 ? ('warn' as const) : ('info' as const),
    remote,
    count,
    finTimeoutS: timeout,
    evidence: `${count} orphaned FIN_WAIT2 socket(s) toward ${remote}: this host closed, the peer has not sent its FIN`,
    advice:
      `The kernel drops these after net.ipv4.tcp_fin_timeout (${timeout ?? '?'} s); that setting governs only these orphans. ` +
      `Many of them mean the peer ${remote} keeps its side open (it sits in CLOSE_WAIT there): fix the peer application; lowering tcp_fin_timeout only shortens the wait here.`,
  }));
}
