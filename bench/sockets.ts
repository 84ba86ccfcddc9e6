/**
 * `keepwire sockets` against `ss` and `netstat`, whole processes timed from
 * spawn to exit (Node.js start-up included), at 1,000, 10,000 and 50,000
 * loopback sockets, in one run:
 *
 *   counts       keepwire sockets --json            vs ss -tan        vs netstat -tan
 *   attribution  keepwire sockets --by process --json vs ss -tanp     vs netstat -tanp
 *   close-wait   keepwire sockets --state close-wait --by process --json
 *                                                   vs ss -tan state close-wait (no attribution)
 *
 * with `node -e 0` beside them (Node.js start-up alone: the floor at small counts),
 * and the installed command without its compile cache, and without a worker,
 * and, in-process, the backends for each question (netlink: `ss -tan -D -`
 * parsed; /proc/net/tcp*; `ss` text), which decides what takeSnapshot
 * prefers. Sockets are held by child processes (bench/socket-farm.ts),
 * each under its own RLIMIT_NOFILE, on 127.0.0.1-127.0.0.8.
 *
 *   flock /tmp/keepwire-bench.lock node bench/sockets.ts [--levels 1000,10000,50000] [--runs 5]
 */
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { summarizeProcesses } from '../src/conntrack/process-summary.ts';
import { takeSnapshot, takeStateCounts } from '../src/conntrack/snapshot.ts';
import { median } from './median.ts';
import { countSockets, growTo, stopFarms } from './socket-farms.ts';

const { values } = parseArgs({
  options: {
    levels: { type: 'string', default: '1000,10000,50000' },
    runs: { type: 'string', default: '5' },
  },
});
const levels = values.levels.split(',').map(Number);
const runs = Number(values.runs);
const root = new URL('..', import.meta.url).pathname;
const node = process.execPath;
const devNull = openSync('/dev/null', 'w');

function timeOnce(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, {
      cwd: root,
      stdio: ['ignore', devNull, 'pipe'],
      env: { ...process.env, ...env },
    });
    let stderr = '';
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr}`));
      else resolve(performance.now() - started);
    });
  });
}

async function timeCommand(command: string, args: string[], env?: NodeJS.ProcessEnv) {
  await timeOnce(command, args, env); // warm caches (page cache, compile cache) for every tool alike
  const samples: number[] = [];
  const n = runs;
  for (let i = 0; i < n; i++) samples.push(await timeOnce(command, args, env));
  return median(samples);
}

async function timeInProcess(fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await fn();
    samples.push(performance.now() - started);
  }
  return median(samples);
}

const kw = (args: string[]): Cmd => [node, ['src/cli/main.ts', 'sockets', ...args]];
type Cmd = [string, string[], NodeJS.ProcessEnv?];
const kwBin = (args: string[]): Cmd => [node, ['bin/keepwire.js', 'sockets', ...args]];
/** The installed entry point without Node.js's compile cache (every module compiled). */
const kwBinUncached = (args: string[]): Cmd => [
  node,
  ['bin/keepwire.js', 'sockets', ...args],
  { NODE_DISABLE_COMPILE_CACHE: '1' },
];
/** The installed entry point with the fd scan on the calling thread only, no worker. */
const kwBinInline = (args: string[]): Cmd => [
  node,
  ['bin/keepwire.js', 'sockets', ...args],
  { KEEPWIRE_FD_SCAN_WORKERS_FROM: String(2 ** 31) },
];
const rows: string[][] = [];
const inProcessRows: string[][] = [];
const fmt = (ms: number) => ms.toFixed(0);
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;

try {
  for (const level of levels) {
    await growTo(level);
    const total = await countSockets();
    process.stderr.write(`-- ${total} sockets\n`);
    const questions: [string, Cmd[], string | undefined][] = [
      [
        'counts',
        [kw(['--json']), kwBin(['--json']), ['ss', ['-tan']], ['netstat', ['-tan']]],
        undefined,
      ],
      [
        'attribution',
        [
          kw(['--by', 'process', '--json']),
          kwBin(['--by', 'process', '--json']),
          ['ss', ['-tanp']],
          ['netstat', ['-tanp']],
        ],
        undefined,
      ],
      [
        'close-wait',
        [
          kw(['--state', 'close-wait', '--by', 'process', '--json']),
          kwBin(['--state', 'close-wait', '--by', 'process', '--json']),
          ['ss', ['-tan', 'state', 'close-wait']],
        ],
        undefined,
      ],
      ['counts, bin, no compile cache', [kwBinUncached(['--json'])], undefined],
      ['attribution, bin, no worker', [kwBinInline(['--by', 'process', '--json'])], undefined],
      [
        'close-wait, bin, no worker',
        [kwBinInline(['--state', 'close-wait', '--by', 'process', '--json'])],
        undefined,
      ],
      ['node -e 0', [[node, ['-e', '0']]], undefined],
    ];
    for (const [question, commands] of questions) {
      const times: number[] = [];
      for (const [command, args, env] of commands)
        times.push(await timeCommand(command, [...args], env));
      if (times.length === 1) {
        rows.push([String(total), question, fmt(times[0]!), '-', '-', '-', '-', '-', '-']);
        continue;
      }
      const [main, bin, ss, netstat] = times as [number, number, number, number | undefined];
      rows.push([
        String(total),
        question,
        fmt(main),
        fmt(bin),
        fmt(ss),
        netstat === undefined ? '-' : fmt(netstat),
        ratio(main, ss),
        ratio(bin, ss),
        netstat === undefined ? '-' : ratio(main, netstat),
      ]);
      process.stderr.write(`   ${question}: ${rows.at(-1)!.slice(2).join('  ')}\n`);
    }
    // In-process: which backend answers each question faster ('-': not a backend for it).
    const time = (fn: () => Promise<unknown>) => timeInProcess(fn).then(fmt);
    const backends = [
      [
        'all sockets',
        () => takeSnapshot({ backend: 'netlink', blocking: true }),
        () => takeSnapshot({ backend: 'proc', blocking: true }),
        () => takeSnapshot({ backend: 'ss', blocking: true }),
      ],
      [
        'counts only',
        () => takeStateCounts({ backend: 'netlink', blocking: true }),
        () => takeStateCounts({ backend: 'proc', blocking: true }),
        undefined,
      ],
      [
        'close-wait only',
        () => takeSnapshot({ backend: 'netlink', blocking: true, states: ['CLOSE_WAIT'] }),
        () => takeSnapshot({ backend: 'proc', blocking: true, states: ['CLOSE_WAIT'] }),
        () => takeSnapshot({ backend: 'ss', blocking: true, states: ['CLOSE_WAIT'] }),
      ],
      [
        'all + attribution (CLI: blocking)',
        () => takeSnapshot({ backend: 'netlink', blocking: true, attribute: true }),
        () => takeSnapshot({ backend: 'proc', blocking: true, attribute: true }),
        undefined,
      ],
      [
        'by process, columns (CLI)',
        () => summarizeProcesses({ blocking: true }),
        undefined,
        undefined,
      ],
      [
        'close-wait by process, columns (CLI)',
        () => summarizeProcesses({ blocking: true, state: 'CLOSE_WAIT' }),
        undefined,
        undefined,
      ],
      [
        'close-wait + attribution (CLI)',
        () =>
          takeSnapshot({
            backend: 'netlink',
            blocking: true,
            attribute: true,
            states: ['CLOSE_WAIT'],
          }),
        () =>
          takeSnapshot({
            backend: 'proc',
            blocking: true,
            attribute: true,
            states: ['CLOSE_WAIT'],
          }),
        undefined,
      ],
      [
        'all + attribution (serve: async)',
        () => takeSnapshot({ backend: 'netlink', attribute: true }),
        () => takeSnapshot({ backend: 'proc', attribute: true }),
        undefined,
      ],
    ] as const;
    for (const [question, ...fns] of backends) {
      const cells: string[] = [];
      for (const fn of fns) cells.push(fn === undefined ? '-' : await time(fn));
      inProcessRows.push([String(total), question, ...cells]);
      process.stderr.write(`   in-process ${question}: ${cells.join('  ')}\n`);
    }
  }
} finally {
  stopFarms();
}

function printTable(header: string[], body: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of body) console.log(line(row));
}

printTable(
  [
    'sockets',
    'question',
    'keepwire ms',
    'kw bin ms',
    'ss ms',
    'netstat ms',
    'kw/ss',
    'bin/ss',
    'kw/netstat',
  ],
  rows,
);
console.log(
  `\nmedians of ${runs} runs after one warm-up; "keepwire" = node src/cli/main.ts, "kw bin" = node bin/keepwire.js (compile cache on before any TypeScript loads)\n`,
);
printTable(['sockets', 'in-process', 'netlink ms', 'proc ms', 'ss text ms'], inProcessRows);
