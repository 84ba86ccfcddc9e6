/**
 * What one watcher sample costs inside the process, full against light, at
 * 1,000 / 10,000 / 50,000 loopback sockets (bench/socket-farms.ts): the
 * SocketWatcher of `keepwire serve` with its default settings, sampled back
 * to back; CPU of this process per sample (process.cpuUsage), and of the
 * shell that runs ss with its children (/proc/PID/stat), medians after 4
 * warm-up samples. `fullSampleMs: 0` makes every sample full; the default
 * (60 s) makes every sample after the first light here.
 *
 *   flock /tmp/keepwire-bench.lock node_modules/.bin/node bench/watch-sample.ts \
 *     [--levels 1000,10000,50000] [--samples 20]
 */
import { parseArgs } from 'node:util';
import { type WatchConfig, watchSchema } from '../src/config/watch.ts';
import { SocketWatcher } from '../src/conntrack/socket-watcher.ts';
import { median } from './median.ts';
import { statOf, TICKS_PER_SECOND } from './proc-stat.ts';
import { countSockets, growTo, stopFarms } from './socket-farms.ts';

const { values } = parseArgs({
  options: {
    levels: { type: 'string', default: '1000,10000,50000' },
    samples: { type: 'string', default: '20' },
  },
});
const levels = values.levels.split(',').map(Number);
const SAMPLES = Number(values.samples);
const WARM_UP = 4;

/** CPU ms of the watcher's ss shell and what it reaped, 0 when there is none. */
function shellCpuMs(watcher: SocketWatcher): number {
  const pid = watcher.shellPid;
  if (pid === undefined) return 0;
  const ticks = statOf(pid)?.ticks.reduce((sum, n) => sum + n, 0) ?? 0;
  return (ticks / TICKS_PER_SECOND) * 1000;
}

async function perSample(fullSampleMs: number): Promise<{ own: number; ss: number }> {
  const config: WatchConfig = { ...watchSchema.parse({}), fullSampleMs };
  const watcher = new SocketWatcher(config, {
    onSample: () => {},
    onError: (error) => {
      throw error;
    },
  });
  const own: number[] = [];
  const ss: number[] = [];
  for (let i = 0; i < WARM_UP + SAMPLES; i++) {
    const before = process.cpuUsage();
    const shellBefore = shellCpuMs(watcher);
    await watcher.sample();
    const used = process.cpuUsage(before);
    if (i < WARM_UP) continue;
    own.push((used.user + used.system) / 1000);
    ss.push(shellCpuMs(watcher) - shellBefore);
  }
  await watcher.stop();
  return { own: median(own), ss: median(ss) };
}

const rows: string[][] = [];
try {
  for (const level of levels) {
    await growTo(level);
    const sockets = await countSockets();
    const full = await perSample(0);
    const light = await perSample(60_000);
    rows.push([
      String(sockets),
      full.own.toFixed(1),
      full.ss.toFixed(1),
      light.own.toFixed(1),
      light.ss.toFixed(1),
      `${(light.own / full.own).toFixed(2)}x`,
    ]);
    console.error(`${sockets} sockets done`);
  }
} finally {
  stopFarms();
}
const header = [
  'sockets',
  'full: own ms',
  'full: ss shell ms',
  'light: own ms',
  'light: ss shell ms',
  'light / full (own)',
];
console.log(`| ${header.join(' | ')} |`);
console.log(`| ${header.map(() => '---').join(' | ')} |`);
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
console.log(`\nCPU per sample, medians of ${SAMPLES} after ${WARM_UP} warm-up samples`);
process.exit(0);
