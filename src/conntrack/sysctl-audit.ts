/**
 * The sysctl audit as a pure function of (kernel release, values): what each
 * TCP setting really does on THIS kernel, whether its value is a risk and what
 * to change. Facts come from the kernel's Documentation/networking/ip-sysctl.rst
 * and the commits named in the advice; see docs/conntrack.md.
 */
export const AUDITED_SYSCTLS = [
  'net.ipv4.tcp_tw_recycle',
  'net.ipv4.tcp_tw_reuse',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_max_tw_buckets',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_syncookies',
  'net.core.somaxconn',
  'net.ipv4.tcp_max_syn_backlog',
] as const;

export type SysctlName = (typeof AUDITED_SYSCTLS)[number];
export type CheckStatus = 'ok' | 'warn' | 'critical' | 'absent';

/** Raw values as read from /proc/sys (whitespace-separated numbers); undefined = file absent. */
export type SysctlValues = Partial<Record<SysctlName, string | undefined>>;

export interface SysctlCheck {
  name: SysctlName;
  /** A number, [low, high] for ip_local_port_range, or null when absent/unreadable. */
  value: number | number[] | null;
  status: CheckStatus;
  /** What the setting does on this kernel. */
  meaning: string;
  advice: string;
  reference: string;
}

export interface SysctlAudit {
  kernel: string;
  kernelVersion: [number, number];
  checks: SysctlCheck[];
}

const DOC = 'Documentation/networking/ip-sysctl.rst';
const DOC_URL = 'https://docs.kernel.org/networking/ip-sysctl.html';

/** "6.8.0-45-generic" -> [6, 8]; unknown -> [0, 0]. */
export function parseKernelVersion(release: string): [number, number] {
  const match = /^(\d+)\.(\d+)/.exec(release);
  return match ? [Number(match[1]), Number(match[2])] : [0, 0];
}

export function isAtLeast(version: [number, number], major: number, minor: number): boolean {
  return version[0] > major || (version[0] === major && version[1] >= minor);
}

function parseValue(raw: string | undefined): number | number[] | null {
  if (raw === undefined) return null;
  const numbers = raw.trim().split(/\s+/).map(Number);
  if (numbers.length === 0 || numbers.some((n) => !Number.isFinite(n))) return null;
  return numbers.length === 1 ? numbers[0]! : numbers;
}

type Rule = (
  value: number | number[],
  version: [number, number],
) => Omit<SysctlCheck, 'name' | 'value' | 'reference'>;

export function auditSysctlValues(release: string, values: SysctlValues): SysctlAudit {
  const version = parseKernelVersion(release);
  const checks = AUDITED_SYSCTLS.map((name): SysctlCheck => {
    const short = name.slice(name.lastIndexOf('.') + 1);
    const reference = `${DOC} (${short}), ${DOC_URL}`;
    const value = parseValue(values[name]);
    if (value === null) return { name, value: null, reference, ...absent(name, version) };
    return { name, value, reference, ...RULES[name](value, version) };
  });
  return { kernel: release, kernelVersion: version, checks };
}

function absent(name: SysctlName, version: [number, number]) {
  if (name === 'net.ipv4.tcp_tw_recycle') {
    const removed = isAtLeast(version, 4, 12);
    return {
      status: 'absent' as const,
      meaning: removed
        ? 'Removed in Linux 4.12 (commit 4396e46187ca, "tcp: remove tcp_tw_recycle"); this kernel has no such setting.'
        : 'Not present on this kernel.',
      advice:
        'Nothing to do. Delete any net.ipv4.tcp_tw_recycle line from /etc/sysctl.conf and /etc/sysctl.d/: on kernels from 4.12 "sysctl -p" fails on it, and before 4.12 it broke clients behind NAT.',
    };
  }
  return {
    status: 'absent' as const,
    meaning: 'Not readable on this kernel or in this namespace.',
    advice: `Check that /proc/sys is mounted and that ${name} exists on this kernel.`,
  };
}

const num = (value: number | number[]) => (Array.isArray(value) ? value[0]! : value);

const RULES: Record<SysctlName, Rule> = {
  'net.ipv4.tcp_tw_recycle': (value) =>
    num(value) === 0
      ? {
          status: 'ok',
          meaning: 'Fast recycling of TIME_WAIT sockets, keyed on per-host TCP timestamps. Off.',
          advice: 'Keep it 0. It was removed in Linux 4.12; upgrade the kernel when you can.',
        }
      : {
          status: 'critical',
          meaning:
            'On: the kernel drops SYNs whose TCP timestamp is older than the last seen from that IP, so clients behind one NAT address fail to connect at random.',
          advice:
            'Set net.ipv4.tcp_tw_recycle=0 now. To reduce TIME_WAIT, reuse connections (HTTP keep-alive, pooling) or, for outgoing connections only, tcp_tw_reuse=1.',
        },
  'net.ipv4.tcp_tw_reuse': (value, version) => {
    const v = num(value);
    const hasLoopbackMode = isAtLeast(version, 4, 19);
    const meaning =
      'Lets connect() take over a TIME_WAIT socket to the same peer when TCP timestamps prove it safe. Outgoing connections only; it does nothing for a server accepting connections. ' +
      (hasLoopbackMode
        ? '0 off, 1 everywhere, 2 loopback only (the default since commit 79e9fed46038).'
        : '0 off, 1 on (this kernel predates the loopback-only mode 2).');
    if (v === 0)
      return {
        status: 'ok',
        meaning,
        advice: hasLoopbackMode
          ? 'Safe. If this host opens many short connections to one destination and runs out of ports, prefer keep-alive; tcp_tw_reuse=1 is the safe kernel-side relief.'
          : 'Safe. If outgoing connections run out of ports, prefer keep-alive, or set 1.',
      };
    if (v === 1)
      return {
        status: 'ok',
        meaning,
        advice:
          'Fine for hosts that open many outgoing connections; needs net.ipv4.tcp_timestamps=1 (the default).',
      };
    if (v === 2 && hasLoopbackMode)
      return {
        status: 'ok',
        meaning,
        advice:
          'Default. Outgoing connections to other hosts do not reuse TIME_WAIT; if they exhaust the port range, reuse connections (keep-alive) or set 1.',
      };
    return {
      status: 'warn',
      meaning,
      advice: `Value ${v} is not defined on Linux ${version.join('.')}; set 0, 1${hasLoopbackMode ? ' or 2' : ''}.`,
    };
  },
  'net.ipv4.tcp_fin_timeout': (value) => {
    const v = num(value);
    const meaning =
      "How long an orphaned socket (closed by its application) waits in FIN_WAIT2 for the peer's FIN before the kernel drops it. It does NOT shorten TIME_WAIT (fixed at 60 s, TCP_TIMEWAIT_LEN) and does NOT touch CLOSE_WAIT, which only the owning application can end by calling close().";
    if (v < 5)
      return {
        status: 'warn',
        meaning,
        advice: `${v} s cuts off slow peers still sending their FIN; 15 to 60 s is sane. Lowering it will not fix CLOSE_WAIT or TIME_WAIT.`,
      };
    if (v > 120)
      return {
        status: 'warn',
        meaning,
        advice: `${v} s keeps FIN_WAIT2 orphans (and their memory) long; the default 60 is enough.`,
      };
    return {
      status: 'ok',
      meaning,
      advice:
        'Fine. If CLOSE_WAIT piles up, fix the application (run "keepwire sockets diagnose"); this setting cannot.',
    };
  },
  'net.ipv4.tcp_max_tw_buckets': (value) => {
    const v = num(value);
    const meaning =
      'The most TIME_WAIT sockets the host keeps; beyond it the kernel destroys them at once and logs "TCP: time wait bucket table overflow".';
    return v < 10_000
      ? {
          status: 'warn',
          meaning,
          advice: `${v} is low: TIME_WAIT exists to stop late segments corrupting new connections, and a busy host needs tens of thousands. Raise it (the kernel default scales with memory, e.g. 262144) and cut TIME_WAIT at the source with keep-alive.`,
        }
      : {
          status: 'ok',
          meaning,
          advice: 'Fine. Do not lower it to hide TIME_WAIT; reuse connections instead.',
        };
  },
  'net.ipv4.ip_local_port_range': (value) => {
    const [low = 0, high = 0] = Array.isArray(value) ? value : [value, value];
    const size = high - low + 1;
    const meaning = `Ephemeral ports for outgoing connections: ${size} ports (${low}-${high}). Each destination ip:port can hold at most that many connections including TIME_WAIT (60 s each), so one destination tops out near ${Math.floor(size / 60)} new connections/s without reuse.`;
    if (size < 10_000)
      return {
        status: 'warn',
        meaning,
        advice:
          'Widen it, e.g. net.ipv4.ip_local_port_range="10000 65535" (keep listening ports out of it, or list them in ip_local_reserved_ports), and reuse connections.',
      };
    if (low < 1024)
      return {
        status: 'warn',
        meaning,
        advice: 'The range reaches into privileged ports (<1024); start it at 1024 or above.',
      };
    return {
      status: 'ok',
      meaning,
      advice:
        'Fine. If one destination runs short, reuse connections (keep-alive) before widening it.',
    };
  },
  'net.ipv4.tcp_keepalive_time': (value) => {
    const v = num(value);
    const meaning = `Idle seconds before the first keepalive probe, only for sockets with SO_KEEPALIVE (applications can override it per socket with TCP_KEEPIDLE). Now ${v} s.`;
    if (v > 7200)
      return {
        status: 'warn',
        meaning,
        advice:
          'Longer than the 7200 s default; firewalls and NATs drop idle flows sooner. Use 600 to 1800.',
      };
    if (v < 30)
      return {
        status: 'warn',
        meaning,
        advice: 'Probing this often adds traffic on every idle connection; 60 s or more is enough.',
      };
    return {
      status: 'ok',
      meaning,
      advice:
        v >= 3600
          ? 'Default-sized: stateful firewalls often forget idle flows within an hour; applications holding idle connections should set TCP_KEEPIDLE themselves (Keepwire does).'
          : 'Fine.',
    };
  },
  'net.ipv4.tcp_keepalive_intvl': (value) => {
    const v = num(value);
    const meaning = `Seconds between unanswered keepalive probes (SO_KEEPALIVE sockets). Now ${v} s.`;
    return v > 300
      ? {
          status: 'warn',
          meaning,
          advice: 'A dead peer is found only after intvl x probes; keep it at 75 s or less.',
        }
      : { status: 'ok', meaning, advice: 'Fine.' };
  },
  'net.ipv4.tcp_keepalive_probes': (value) => {
    const v = num(value);
    const meaning = `Unanswered keepalive probes before the connection is declared dead. Now ${v}.`;
    return v > 20 || v < 1
      ? { status: 'warn', meaning, advice: 'Use 3 to 9 so a dead peer is found in minutes.' }
      : { status: 'ok', meaning, advice: 'Fine.' };
  },
  'net.ipv4.tcp_syncookies': (value) => {
    const v = num(value);
    const meaning =
      "0 off; 1 send SYN cookies only when a listener's SYN queue overflows (default); 2 always send them (meant for testing; connections lose TCP options without timestamps).";
    if (v === 1)
      return { status: 'ok', meaning, advice: 'Keep 1: it protects listeners against SYN floods.' };
    if (v === 0)
      return {
        status: 'warn',
        meaning,
        advice:
          'Set net.ipv4.tcp_syncookies=1: without it a SYN flood fills the SYN queue and real clients cannot connect.',
      };
    return { status: 'warn', meaning, advice: 'Set 1: mode 2 is for testing.' };
  },
  'net.core.somaxconn': (value, version) => {
    const v = num(value);
    const meaning = `Caps the backlog any listen() can ask for (accept queue of completed connections). Default ${isAtLeast(version, 5, 4) ? '4096 on this kernel (since 5.4)' : '128 on this kernel (4096 from 5.4)'}.`;
    return v < 1024
      ? {
          status: 'warn',
          meaning,
          advice: `${v} silently caps busy servers' accept queues: bursts are dropped or reset. Raise it to 4096 (net.core.somaxconn=4096).`,
        }
      : { status: 'ok', meaning, advice: 'Fine.' };
  },
  'net.ipv4.tcp_max_syn_backlog': (value) => {
    const v = num(value);
    const meaning =
      'Most half-open connections (SYN_RECV) remembered per listener; beyond it, with tcp_syncookies=1, the kernel answers with SYN cookies, else drops SYNs.';
    return v < 256
      ? {
          status: 'warn',
          meaning,
          advice: `${v} is small for a server; raise it to 1024 or more and keep tcp_syncookies=1.`,
        }
      : { status: 'ok', meaning, advice: 'Fine.' };
  },
};
