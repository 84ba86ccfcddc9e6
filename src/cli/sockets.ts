/**
 * `keepwire sockets` and `keepwire sockets diagnose`. A one-shot question
 * starts the kernel's socket dump (`ss`) as soon as its options are parsed,
 * and only then loads what reads and counts it, so the dump runs while those
 * modules load. This file imports only what that start needs, and the
 * watcher's modules directly rather than through conntrack/index.ts: the
 * command never loads prom-client or fastify. Start-up time is most of a run
 * at small counts (docs/benchmarks.md).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Finding } from '../conntrack/findings.ts';
import { type NetlinkDump, startNetlinkDump } from '../conntrack/netlink-dump.ts';
import { GROUP_KEYS, type GroupBy, type SocketSummary } from '../conntrack/summary.ts';
import { parseTcpState, TCP_STATES, type TcpState } from '../conntrack/tcp-state.ts';
import { UsageError } from '../errors.ts';
import { type CliIo, type Command, parseInteger, parseOptions, writeJson } from './command.ts';

const HELP = `Usage: keepwire sockets [--state NAME] [--by process|remote|local-port|state]
                        [--port N] [--top N] [--json] [--watch [--interval-ms N] [--count N]]
       keepwire sockets diagnose [--samples N] [--interval-ms N] [--min-time-wait N] [--json]

Counts every TCP socket on this host (IPv4 and IPv6) by kernel state and
lists the largest groups. "diagnose" samples several times and reports
CLOSE_WAIT leaks (with the owning process), TIME_WAIT pressure against the
ephemeral port range, SYN backlog pressure and FIN_WAIT2 orphans, each with
evidence and advice. Run as root to see other users' processes.

Options:
  --state NAME       only this state: close-wait, time-wait, established,
                     listen, syn-recv, fin-wait-2, ... (case and - or _ free)
  --by KEY           group by process (pid + command), remote (ip:port),
                     local-port or state; default in text output: remote
  --port N           only sockets whose local or remote port is N
  --top N            how many groups to list (default 20)
  --json             one JSON object: {"total", "states", "groups"?, ...}
  --watch            redraw every --interval-ms (default 2000) until Ctrl-C;
                     needs a terminal unless --count N bounds it
  --count N          with --watch: stop after N refreshes
  diagnose options:
  --samples N        samples to take (default 3, at least 2)
  --interval-ms N    pause between samples (default 1000)
  --min-time-wait N  report TIME_WAIT per destination from N sockets
                     (default: 10% of net.ipv4.ip_local_port_range)

Examples:
  keepwire sockets                               state counts, top remotes
  keepwire sockets --state close-wait --by process
  keepwire sockets --by remote --port 9200 --json
  keepwire sockets --watch --by process
  keepwire sockets diagnose --samples 5 --interval-ms 2000
  keepwire sockets diagnose --json | jq '.findings[] | select(.kind=="close-wait-leak")'
`;

export const socketsCommand: Command = {
  name: 'sockets',
  summary: 'count TCP sockets by state, process or peer; "sockets diagnose" finds leaks',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    if (args[0] === 'diagnose') return runDiagnose(args.slice(1), io);
    const { values, positionals } = parseOptions(
      args,
      {
        state: { type: 'string' },
        by: { type: 'string' },
        port: { type: 'string' },
        top: { type: 'string' },
        json: { type: 'boolean' },
        watch: { type: 'boolean' },
        'interval-ms': { type: 'string' },
        count: { type: 'string' },
      },
      'sockets',
      true,
    );
    if (positionals.length > 0)
      throw new UsageError(
        `unknown argument "${positionals[0]}"; the only subcommand is "diagnose"`,
      );
    const by = parseBy(values.by);
    const state = values.state === undefined ? undefined : parseTcpState(values.state);
    const port = parseInteger(values.port, 'port', { min: 0, max: 65_535 });
    const top = parseInteger(values.top, 'top', { min: 1 });
    const intervalMs = parseInteger(values['interval-ms'], 'interval-ms', { min: 100 }) ?? 2000;
    const count = parseInteger(values.count, 'count', { min: 1 });
    const json = values.json === true;
    const textBy: GroupBy | undefined = by ?? (json ? undefined : 'remote');

    if (values.watch && !io.stdout.isTTY && count === undefined)
      throw new UsageError(
        '--watch redraws a terminal, but stdout is not one; add --count N to print N refreshes, or drop --watch',
      );
    const question: Question = { by: textBy, state, port, top };
    // Every option is valid: the first answer's dump starts now.
    let dump: Promise<NetlinkDump> | undefined = startNetlinkDump({
      states: state === undefined ? undefined : [state],
    });
    const once = () => {
      const started = dump;
      dump = undefined;
      return answer(question, started);
    };
    if (!values.watch) {
      const summary = await once();
      if (json) writeJson(io, summary);
      else io.stdout.write(formatSummary(summary));
      return 0;
    }
    let stopped = false;
    const stop = () => {
      stopped = true;
    };
    process.once('SIGINT', stop);
    try {
      for (let i = 0; !stopped && (count === undefined || i < count); i++) {
        if (i > 0) await sleep(intervalMs);
        if (stopped) break;
        const summary = await once();
        if (json) writeJson(io, summary);
        else if (io.stdout.isTTY)
          io.stdout.write(
            `\x1b[H\x1b[2J${formatSummary(summary)}\n(every ${intervalMs} ms; Ctrl-C stops)\n`,
          );
        else io.stdout.write(`${formatSummary(summary)}\n`);
      }
    } finally {
      process.removeListener('SIGINT', stop);
    }
    return 0;
  },
};

interface Question {
  by: GroupBy | undefined;
  state: TcpState | undefined;
  port: number | undefined;
  top: number | undefined;
}

/**
 * One summary, from the netlink dump `dump` when the caller started it (for
 * this question's state), each path loading its modules only now.
 */
async function answer(question: Question, dump?: Promise<NetlinkDump>): Promise<SocketSummary> {
  const { by, state, port, top } = question;
  // Only counts asked for: skip building 50,000 socket objects.
  if (by === undefined && state === undefined && port === undefined) {
    const { takeStateCounts } = await import('../conntrack/snapshot.ts');
    const { summarizeCounts } = await import('../conntrack/summary.ts');
    return summarizeCounts(await takeStateCounts({ blocking: true, dump }));
  }
  // By process: counted from the dump's columns, no object per socket; if
  // the netlink dump fails, takeSnapshot below falls back to /proc.
  if (by === 'process') {
    const { summarizeProcesses } = await import('../conntrack/process-summary.ts');
    const summary = await summarizeProcesses({ state, port, top, blocking: true, dump }).catch(
      () => undefined,
    );
    if (summary !== undefined) return summary;
    dump = undefined; // it failed: takeSnapshot tries netlink afresh, then the fallbacks
  }
  const { takeSnapshot } = await import('../conntrack/snapshot.ts');
  const { summarizeSnapshot } = await import('../conntrack/summary.ts');
  const snapshot = await takeSnapshot({
    attribute: by === 'process',
    states: state === undefined ? undefined : [state],
    blocking: true,
    dump,
  });
  return summarizeSnapshot(snapshot, { by, state, port, top });
}

function parseBy(value: string | undefined): GroupBy | undefined {
  if (value === undefined) return undefined;
  if (!(GROUP_KEYS as readonly string[]).includes(value))
    throw new UsageError(`--by takes one of ${GROUP_KEYS.join(', ')}, got "${value}"`);
  return value as GroupBy;
}

export function formatSummary(summary: SocketSummary): string {
  const filter = [
    summary.filter.state && `state ${summary.filter.state}`,
    summary.filter.port !== undefined && `port ${summary.filter.port}`,
  ].filter(Boolean);
  const lines = [
    `TCP sockets: ${summary.total}${filter.length ? ` (${filter.join(', ')})` : ''}  [${summary.takenAt}, from ${summary.source}]`,
  ];
  for (const state of TCP_STATES) {
    const n = summary.states[state];
    if (n > 0) lines.push(`  ${state.padEnd(12)} ${String(n).padStart(8)}`);
  }
  if (summary.groups !== undefined) {
    lines.push(
      '',
      `Largest groups by ${summary.by} (${summary.groups.length} of ${summary.groupCount}):`,
    );
    for (const group of summary.groups) {
      const label =
        'pid' in group
          ? `${group.process} (pid ${group.pid})`
          : 'remote' in group
            ? group.remote
            : 'localPort' in group
              ? `port ${group.localPort}`
              : group.state;
      const states =
        'states' in group
          ? Object.entries(group.states)
              .map(([s, n]) => `${s} ${n}`)
              .join(', ')
          : '';
      lines.push(`  ${String(group.count).padStart(8)}  ${label}${states ? `  [${states}]` : ''}`);
    }
    if (summary.unattributed)
      lines.push(
        `  ${String(summary.unattributed).padStart(8)}  (no process: TIME_WAIT, orphans, or not visible without root)`,
      );
  }
  const skipped = Object.entries(summary.skipped).filter(([, n]) => n > 0);
  if (skipped.length) lines.push('', `Skipped: ${skipped.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  return `${lines.join('\n')}\n`;
}

async function runDiagnose(args: string[], io: CliIo): Promise<number> {
  const { values } = parseOptions(
    args,
    {
      samples: { type: 'string' },
      'interval-ms': { type: 'string' },
      'min-time-wait': { type: 'string' },
      json: { type: 'boolean' },
    },
    'sockets',
  );
  const { diagnose } = await import('../conntrack/diagnose.ts');
  const diagnosis = await diagnose({
    samples: parseInteger(values.samples, 'samples', { min: 2, max: 1000 }),
    intervalMs: parseInteger(values['interval-ms'], 'interval-ms', { min: 0, max: 3_600_000 }),
    timeWaitMinCount: parseInteger(values['min-time-wait'], 'min-time-wait', { min: 1 }),
  });
  if (values.json) {
    writeJson(io, diagnosis);
    return 0;
  }
  const lines = [
    `Sampled ${diagnosis.samples} times over ${diagnosis.spanMs} ms: ${diagnosis.findings.length} finding(s).`,
  ];
  for (const finding of diagnosis.findings) lines.push('', ...formatFinding(finding));
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

function formatFinding(finding: Finding): string[] {
  return [
    `[${finding.severity.toUpperCase()}] ${finding.kind}: ${finding.count} socket(s)`,
    `  evidence: ${finding.evidence}`,
    `  advice:   ${finding.advice}`,
  ];
}
