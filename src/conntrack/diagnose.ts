/**
 * diagnose: samples every TCP socket several times, attributes the CLOSE_WAIT
 * ones of the last sample to their processes, and runs the analyses.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type AnalysisContext, analyzeSamples, type Finding } from './findings.ts';
import { attributeSockets } from './process-attribution.ts';
import { takeSnapshot } from './snapshot.ts';
import { emptySkipCounts, type SkipCounts, type SocketSnapshot } from './socket.ts';
import { readSsSockets } from './ss-reader.ts';
import { readSysctlValues } from './sysctl-reader.ts';

export interface DiagnoseOptions {
  /** How many samples; at least 2, default 3. */
  samples?: number;
  /** Pause between samples; default 1000 ms. */
  intervalMs?: number;
  /** Report TIME_WAIT per destination from this count; default 10% of the port range. */
  timeWaitMinCount?: number;
  procRoot?: string;
}

export interface Diagnosis {
  findings: Finding[];
  samples: number;
  spanMs: number;
  skipped: SkipCounts;
}

export async function diagnose(options: DiagnoseOptions = {}): Promise<Diagnosis> {
  const count = Math.max(2, options.samples ?? 3);
  const intervalMs = Math.max(0, options.intervalMs ?? 1000);
  const context = await readAnalysisContext(options.procRoot);
  if (options.timeWaitMinCount !== undefined) context.timeWaitMinCount = options.timeWaitMinCount;
  const samples: SocketSnapshot[] = [];
  for (let i = 0; i < count; i++) {
    if (i > 0) await sleep(intervalMs);
    const sample = await takeSnapshot({ procRoot: options.procRoot });
    // Looking the fds up in the first sample makes the kernel create their
    // /proc/PID/fd/N inodes now (if nobody did before), so the ctime read in
    // the last sample proves the process held the socket across the run.
    if (i === 0) await attributeCloseWait(sample, options.procRoot);
    samples.push(sample);
  }
  const last = samples.at(-1)!;
  await enrichForDiagnosis(last, options.procRoot);
  const skipped = emptySkipCounts();
  for (const sample of samples)
    for (const key of Object.keys(skipped) as (keyof SkipCounts)[])
      skipped[key] += sample.skipped[key];
  return {
    findings: analyzeSamples(samples, context),
    samples: count,
    spanMs: last.takenAt - samples[0]!.takenAt,
    skipped,
  };
}

/**
 * Attributes the CLOSE_WAIT sockets of a sample (with how long their process
 * has held them) and adds LISTEN backlogs from `ss` when the sample came from
 * /proc, which does not show them.
 */
export async function enrichForDiagnosis(
  sample: SocketSnapshot,
  procRoot?: string,
  options: { attribute?: boolean } = {},
): Promise<void> {
  if (options.attribute ?? true) await attributeCloseWait(sample, procRoot);
  const listening = sample.sockets.filter((s) => s.state === 'LISTEN' && s.backlog === undefined);
  if (listening.length === 0) return;
  try {
    const fromSs = await readSsSockets({ states: ['LISTEN'], skipped: emptySkipCounts() });
    const backlogs = new Map(fromSs.map((s) => [s.inode, s.backlog]));
    for (const socket of listening) socket.backlog = backlogs.get(socket.inode) ?? undefined;
    for (const socket of listening) if (socket.backlog === undefined) delete socket.backlog;
  } catch {
    // Without ss the analysis falls back to net.core.somaxconn as the cap.
  }
}

async function attributeCloseWait(sample: SocketSnapshot, procRoot?: string): Promise<void> {
  const closeWait = sample.sockets.filter((s) => s.state === 'CLOSE_WAIT' && s.pid === undefined);
  if (closeWait.length === 0) return;
  await attributeSockets(closeWait, {
    procRoot,
    heldSinceStates: ['CLOSE_WAIT'],
    skipped: sample.skipped,
  });
}

export async function readAnalysisContext(procRoot?: string): Promise<AnalysisContext> {
  const values = await readSysctlValues(procRoot);
  const numbers = (raw: string | undefined) => raw?.trim().split(/\s+/).map(Number) ?? [];
  const [low = 32_768, high = 60_999] = numbers(values['net.ipv4.ip_local_port_range']);
  return {
    portRange: [low, high],
    finTimeoutS: numbers(values['net.ipv4.tcp_fin_timeout'])[0] ?? null,
    somaxconn: numbers(values['net.core.somaxconn'])[0],
  };
}
