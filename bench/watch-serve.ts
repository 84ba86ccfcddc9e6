/**
 * What the watcher costs inside a real `keepwire serve`, at 1,000 / 10,000 /
 * 50,000 loopback sockets (bench/socket-farms.ts), at the default interval
 * (5 s) with attribution on:
 *
 * - CPU of the serve process over `--seconds` (60), from /proc/PID/stat:
 *   its own (utime + stime) and with its children (the `ss` that dumps the
 *   sockets each sample, and the shell that runs it). Measured after serve's
 *   third sample, so the first sample's full fd scan is not in it.
 * - Meanwhile a CLOSE-WAIT leak grows: a child process adds 20 CLOSE_WAIT
 *   sockets every interval; for each step, the time from the step to the
 *   first sample whose GET /v1/sockets?by=process&state=close-wait names all
 *   of them on that child (polled every 500 ms: ~120 cached answers a minute).
 * - Then GET /v1/sockets latency, 200 sequential requests each: the default
 *   answer (counts, findings) and `?by=process&state=close-wait`.
 * - Once, `serve` with the watcher off, for the rest of serve's cost.
 * - With `--compare DIR`, the same for the serve of another checkout (e.g.
 *   `git worktree add /tmp/kw-before COMMIT` with node_modules linked), side
 *   by side in one run.
 *
 *   flock /tmp/keepwire-bench.lock node_modules/.bin/node bench/watch-serve.ts \
 *     [--levels 1000,10000,50000] [--seconds 60] [--compare DIR]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { type ServeProcess, startServe } from '../test/support/keepwire-process.ts';
import { median } from './median.ts';
import { statOf, TICKS_PER_SECOND } from './proc-stat.ts';
import { countSockets, growTo, stopFarms } from './socket-farms.ts';

const { values } = parseArgs({
  options: {
    levels: { type: 'string', default: '1000,10000,50000' },
    seconds: { type: 'string', default: '60' },
    compare: { type: 'string' },
  },
});
const levels = values.levels.split(',').map(Number);
const seconds = Number(values.seconds);
const INTERVAL_MS = 5000; // watch.intervalMs's default, not set below
const STEP_SOCKETS = 20;

/** A `keepwire` command that runs another checkout's sources with this Node.js. */
function commandFor(dir: string): string {
  const script = join(mkdtempSync(join(tmpdir(), 'kw-bench-cmd-')), 'keepwire');
  writeFileSync(script, `#!/bin/sh\nexec "${process.execPath}" "${dir}/src/cli/main.ts" "$@"\n`);
  chmodSync(script, 0o755);
  return script;
}
const variants: [string, string | undefined][] = [['this tree', undefined]];
if (values.compare) variants.push([`compare: ${values.compare}`, commandFor(values.compare)]);

/**
 * [own, with children] CPU seconds of a process so far. With children: the
 * children it reaped (cutime + cstime: the `ss` a spawn per sample runs) and
 * those still running with what they reaped (the long-lived shell that runs
 * ss for serve's watcher), found by their parent pid.
 */
function cpuSeconds(pid: number): [number, number] {
  const [utime, stime, cutime, cstime] = statOf(pid)!.ticks as [number, number, number, number];
  let children = cutime + cstime;
  const parents = [pid];
  const all = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  for (let i = 0; i < parents.length; i++)
    for (const name of all) {
      const child = statOf(name);
      if (child === undefined || child.ppid !== parents[i]) continue;
      parents.push(Number(name));
      children += child.ticks.reduce((sum, n) => sum + n, 0);
    }
  const own = (utime + stime) / TICKS_PER_SECOND;
  return [own, own + children / TICKS_PER_SECOND];
}

async function get(serve: ServeProcess, path: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${serve.adminUrl}${path}`, {
    headers: { authorization: `Bearer ${serve.adminToken}` },
  });
  if (response.status !== 200) throw new Error(`GET ${path}: ${response.status}`);
  return (await response.json()) as Record<string, unknown>;
}

async function samplesTaken(serve: ServeProcess): Promise<number> {
  const text = await (await fetch(`${serve.adminUrl}/metrics`)).text();
  return Number(/^keepwire_watch_samples_total (\d+)$/m.exec(text)?.[1] ?? 0);
}

/** A child holding CLOSE_WAIT sockets toward `port`; `grow(n)` adds n and resolves once all are in CLOSE_WAIT. */
function startLeaker(port: number): { child: ChildProcess; grow(n: number): Promise<void> } {
  const source = `
    const net = require('node:net'); const held = [];
    process.stdin.setEncoding('utf8').on('data', async (n) => {
      const opened = [];
      for (let i = 0; i < Number(n); i++) {
        const s = net.connect({ host: '127.0.0.1', port: ${port}, allowHalfOpen: true });
        held.push(s);
        opened.push(new Promise((resolve) => s.once('end', resolve)));
      }
      await Promise.all(opened);
      process.stdout.write('ok\\n');
    });`;
  const child = spawn(process.execPath, ['-e', source], { stdio: ['pipe', 'pipe', 'inherit'] });
  return {
    child,
    async grow(n) {
      const answered = once(child.stdout!, 'data');
      child.stdin!.write(String(n));
      await answered;
    },
  };
}

interface Result {
  sockets: string;
  cpuOwn: number;
  cpuAll: number;
  leakSteps: number;
  withinInterval: number;
  worstDelayMs: number;
  findingCount: number | undefined;
  getDefault: number[];
  getByProcess: number[];
}

async function measure(command: string | undefined, watch: boolean): Promise<Result> {
  const accepted: Socket[] = [];
  const closer = createServer({ allowHalfOpen: true }, (socket) => {
    accepted.push(socket);
    socket.on('error', () => {});
    socket.end(); // the leaker never closes its side: CLOSE_WAIT there
  });
  closer.listen(0, '127.0.0.1');
  await once(closer, 'listening');
  const port = (closer.address() as { port: number }).port;
  const serve = await startServe({
    ...(command === undefined ? {} : { command }),
    env: watch ? {} : { KEEPWIRE_WATCH__ENABLED: 'false' },
  });
  const leaker = startLeaker(port);
  try {
    const before = await countSockets();
    if (watch) while ((await samplesTaken(serve)) < 3) await sleep(100);
    else await sleep(3 * INTERVAL_MS);
    let leaked = STEP_SOCKETS;
    await leaker.grow(STEP_SOCKETS);
    const [own0, all0] = cpuSeconds(serve.pid);
    const started = performance.now();
    const delays: number[] = [];
    const query = `/v1/sockets?by=process&state=close-wait&port=${port}`;
    while (performance.now() - started < seconds * 1000 - INTERVAL_MS) {
      leaked += STEP_SOCKETS;
      await leaker.grow(STEP_SOCKETS);
      const grownAt = Date.now();
      if (!watch) {
        await sleep(INTERVAL_MS);
        continue;
      }
      for (;;) {
        const answer = (await get(serve, query)) as {
          takenAt: string;
          groups: { pid: number; count: number }[];
        };
        const mine = answer.groups.find((g) => g.pid === leaker.child.pid);
        const takenAt = Date.parse(answer.takenAt);
        if (mine?.count === leaked && takenAt >= grownAt) {
          delays.push(takenAt - grownAt);
          break;
        }
        if (Date.now() - grownAt > 3 * INTERVAL_MS) {
          delays.push(Number.POSITIVE_INFINITY);
          break;
        }
        await sleep(500);
      }
      const next = started + (delays.length + 1) * INTERVAL_MS;
      await sleep(Math.max(0, next - performance.now()));
    }
    await sleep(Math.max(0, seconds * 1000 - (performance.now() - started)));
    const [own1, all1] = cpuSeconds(serve.pid);
    const elapsed = (performance.now() - started) / 1000;
    const result: Result = {
      sockets: `${before}-${await countSockets()}`,
      cpuOwn: ((own1 - own0) / elapsed) * 100,
      cpuAll: ((all1 - all0) / elapsed) * 100,
      leakSteps: delays.length,
      withinInterval: delays.filter((d) => d <= INTERVAL_MS).length,
      worstDelayMs: Math.max(0, ...delays),
      findingCount: undefined,
      getDefault: [],
      getByProcess: [],
    };
    if (!watch) return result;
    const findings = ((await get(serve, '/v1/sockets/findings')).findings ?? []) as {
      kind: string;
      pid: number | null;
      count: number;
    }[];
    result.findingCount = findings.find(
      (f) => f.kind === 'close-wait-leak' && f.pid === leaker.child.pid,
    )?.count;
    for (const [path, into] of [
      ['/v1/sockets', result.getDefault],
      [query, result.getByProcess],
    ] as const) {
      for (let i = 0; i < 200; i++) {
        const t = performance.now();
        await get(serve, path);
        into.push(performance.now() - t);
      }
    }
    return result;
  } finally {
    leaker.child.kill('SIGKILL');
    await serve.stop();
    for (const socket of accepted) socket.destroy();
    closer.close();
  }
}

const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.ceil(xs.length * 0.99) - 1]!;
const rows: string[][] = [];
try {
  const idle = await measure(undefined, false);
  rows.push([
    '-',
    'serve, watcher off',
    idle.sockets,
    idle.cpuOwn.toFixed(2),
    idle.cpuAll.toFixed(2),
  ]);
  process.stderr.write(`watcher off: ${idle.cpuOwn.toFixed(2)} % own\n`);
  for (const level of levels) {
    await growTo(level);
    for (const [name, command] of variants) {
      const r = await measure(command, true);
      const ms = (xs: number[]) => `${median(xs).toFixed(1)} / ${p99(xs).toFixed(1)}`;
      rows.push([
        String(level),
        name,
        r.sockets,
        r.cpuOwn.toFixed(2),
        r.cpuAll.toFixed(2),
        `${r.withinInterval}/${r.leakSteps}`,
        Number.isFinite(r.worstDelayMs) ? String(r.worstDelayMs) : 'never',
        String(r.findingCount ?? '-'),
        ms(r.getDefault),
        ms(r.getByProcess),
      ]);
      process.stderr.write(`${rows.at(-1)!.join('  ')}\n`);
    }
  }
} finally {
  stopFarms();
}

const header = [
  'level',
  'serve',
  'sockets (start-end)',
  'CPU % own',
  'CPU % with ss',
  'leak steps seen in 1 interval',
  'worst ms',
  'leak finding count',
  'GET /v1/sockets ms (median / p99)',
  'GET ?by=process&state=close-wait ms',
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const line = (cells: string[]) =>
  `| ${header.map((_, i) => (cells[i] ?? '').padEnd(widths[i]!)).join(' | ')} |`;
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const row of rows) console.log(line(row));
console.log(
  `\n${seconds} s per row at the default interval (${INTERVAL_MS} ms), attribution on; CPU from /proc/PID/stat (% of one core); leak: +${STEP_SOCKETS} CLOSE_WAIT sockets per interval`,
);
