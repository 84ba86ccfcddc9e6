/** `keepwire sysctl audit`: the kernel's TCP settings, judged for this kernel. */
import type { SysctlAudit } from '../conntrack/sysctl-audit.ts';
import { auditSysctl } from '../conntrack/sysctl-reader.ts';
import { UsageError } from '../errors.ts';
import { type CliIo, type Command, parseOptions, writeJson } from './command.ts';

const HELP = `Usage: keepwire sysctl audit [--json]

Reads the kernel version and the TCP settings that tuning guides talk about
(tcp_tw_recycle, tcp_tw_reuse, tcp_fin_timeout, tcp_max_tw_buckets,
ip_local_port_range, tcp_keepalive_*, tcp_syncookies, somaxconn,
tcp_max_syn_backlog) from /proc/sys and says for each what it really does on
THIS kernel, whether the value is a risk (ok, warn, critical, absent) and what
to change, with a reference to the kernel's ip-sysctl documentation.
It only reads; it never changes a setting.

Options:
  --json   {"kernel", "checks": [{"name", "value", "status", "advice", "reference"}]}

Examples:
  keepwire sysctl audit
  keepwire sysctl audit --json | jq '.checks[] | select(.status != "ok")'
`;

export const sysctlCommand: Command = {
  name: 'sysctl',
  summary: 'audit the kernel TCP settings against this kernel version ("sysctl audit")',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseOptions(
      args,
      { json: { type: 'boolean' } },
      'sysctl',
      true,
    );
    if (positionals[0] !== 'audit' || positionals.length > 1)
      throw new UsageError('the only subcommand is "audit": run "keepwire sysctl audit"');
    const audit = await auditSysctl();
    if (values.json) writeJson(io, audit);
    else io.stdout.write(formatAudit(audit));
    return 0;
  },
};

function formatAudit(audit: SysctlAudit): string {
  const lines = [`Kernel ${audit.kernel}`];
  for (const check of audit.checks) {
    const value =
      check.value === null
        ? '(absent)'
        : Array.isArray(check.value)
          ? check.value.join(' ')
          : String(check.value);
    lines.push(
      '',
      `[${check.status.toUpperCase()}] ${check.name} = ${value}`,
      `  ${check.meaning}`,
      `  advice: ${check.advice}`,
      `  see: ${check.reference}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
