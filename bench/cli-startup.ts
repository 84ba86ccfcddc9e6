/**
 * Start-up time of the `keepwire` command, whole process (spawn to exit):
 * `--help` of the command and of every subcommand, and a `commands create`
 * round trip through the Unix socket of a running `keepwire serve`, next to
 * `node -e 0` (Node.js start-up alone) in the same run. Each case runs once
 * to warm the compile cache, then RUNS times interleaved; prints medians and
 * the ratio to `node -e 0`.
 *
 *   flock /tmp/keepwire-bench.lock ./node_modules/.bin/node bench/cli-startup.ts [RUNS]
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { median } from './median.ts';

const runs = Number(process.argv[2] ?? 15);
const bin = new URL('../bin/keepwire.js', import.meta.url).pathname;
const node = process.execPath;
const dataDir = mkdtempSync(join(tmpdir(), 'kw-bench-startup-'));

const server = spawn(
  node,
  [bin, 'serve', '--data-dir', dataDir, '--admin', '127.0.0.1:0', '--agents', '127.0.0.1:0'],
  { env: { ...process.env, KEEPWIRE_LOG__LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'] },
);
const addrFile = join(dataDir, 'admin.addr');
while (!existsSync(addrFile) || readFileSync(addrFile, 'utf8') === '') await sleep(20);

const cases: [string, string[]][] = [
  ['node -e 0', ['-e', '0']],
  ['keepwire --help', [bin, '--help']],
  ...['serve', 'ship', 'sockets', 'sysctl', 'agents', 'commands', 'agent'].map(
    (name): [string, string[]] => [`keepwire ${name} --help`, [bin, name, '--help']],
  ),
  [
    'keepwire commands create (Unix socket)',
    [bin, 'commands', 'create', '--target', 'component:bench', '--action', 'ping'],
  ],
];

function timeOnce(args: string[]): number {
  const started = performance.now();
  const result = spawnSync(node, args, {
    env: { ...process.env, KEEPWIRE_DATA_DIR: dataDir },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`${args.join(' ')} failed: ${result.stderr}`);
  return ms;
}

const samples = new Map<string, number[]>(cases.map(([name]) => [name, []]));
for (const [, args] of cases) timeOnce(args);
for (let run = 0; run < runs; run++) {
  for (const [name, args] of cases) samples.get(name)!.push(timeOnce(args));
}
server.kill('SIGTERM');
await new Promise((resolve) => server.once('exit', resolve));
rmSync(dataDir, { recursive: true, force: true });

const base = median(samples.get('node -e 0')!);
console.log(`${runs} runs each (after one warm-up), Node.js ${process.version}\n`);
console.log(`${'case'.padEnd(40)} ${'median ms'.padStart(10)} ${'x node -e 0'.padStart(12)}`);
for (const [name] of cases) {
  const ms = median(samples.get(name)!);
  console.log(
    `${name.padEnd(40)} ${ms.toFixed(1).padStart(10)} ${(ms / base).toFixed(2).padStart(12)}`,
  );
}
