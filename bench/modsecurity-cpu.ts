/**
 * Where the CPU of a ModSecurity backfill goes, per record: `keepwire ship
 * --from modsecurity --sink opensearch` of a serial JSON log into the
 * bench's `_bulk` node (bench/bulk-server-process.ts), with the CPU time
 * (utime + stime) of every thread of the keepwire process, summed by thread
 * name (`/proc/PID/task/TID/stat`, sampled every 50 ms until it exits, so a
 * thread's last 50 ms may be missed: a lower bound), and of the node
 * process, in µs per record. CPU time, unlike wall time, is little changed
 * by other work on a shared machine.
 *
 *   flock /tmp/keepwire-bench.lock node_modules/.bin/node bench/modsecurity-cpu.ts \
 *     [--events 200000] [--runs 3] [-- extra ship arguments, e.g. --decode-threads 0]
 *
 * Profiles per thread: `NODE_OPTIONS='--cpu-prof --cpu-prof-dir DIR'`
 * reaches keepwire's threads and the node alike.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { modsecurityShipArgs, startBulkNodeProcess } from './bulk-node-client.ts';
import { writeRecords } from './modsecurity-records.ts';
import { exited } from './syslog-ng-process.ts';

const { values, positionals } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    runs: { type: 'string', default: '3' },
  },
  allowPositionals: true,
});
const EVENTS = Number(values.events);
const TICKS_PER_SECOND = 100;
const work = mkdtempSync(join(tmpdir(), 'kw-bench-modsec-cpu-'));

/** Name and CPU ticks (user, system) of a process or one of its threads. */
function cpuTicks(path: string): { name: string; user: number; system: number } {
  const stat = readFileSync(path, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
    user: Number(fields[11]),
    system: Number(fields[12]),
  };
}

const perRecord = (ticks: number) => ((ticks / TICKS_PER_SECOND) * 1e6) / EVENTS;

const node = await startBulkNodeProcess();
const { port, ask } = node;
const log = join(work, 'audit-json.log');
await writeRecords(log, EVENTS, 1, 'json');

try {
  for (let run = 0; run < Number(values.runs); run++) {
    await ask('reset');
    const dataDir = mkdtempSync(join(work, 'kw-'));
    const nodeBefore = cpuTicks(`/proc/${node.child.pid}/stat`);
    const started = performance.now();
    const child = spawn(
      process.execPath,
      modsecurityShipArgs({
        input: log,
        url: `http://127.0.0.1:${port}`,
        dataDir,
        concurrency: 4,
        batchEvents: 1000,
        extra: positionals,
      }),
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const threads = new Map<string, { name: string; ticks: number }>();
    const sample = setInterval(() => {
      try {
        for (const tid of readdirSync(`/proc/${child.pid}/task`)) {
          const { name, user, system } = cpuTicks(`/proc/${child.pid}/task/${tid}/stat`);
          threads.set(tid, { name, ticks: user + system });
        }
      } catch {
        // The process or a thread ended between the listing and the read: its last sample stands.
      }
    }, 50);
    await exited(child);
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sample);
    const nodeAfter = cpuTicks(`/proc/${node.child.pid}/stat`);
    const { documents } = await ask<{ documents: number }>('stats');
    rmSync(dataDir, { recursive: true, force: true });
    if (child.exitCode !== 0 || documents !== EVENTS)
      throw new Error(`keepwire ship exited ${child.exitCode} with ${documents} documents indexed`);
    const byName = new Map<string, number>();
    let total = 0;
    for (const { name, ticks } of threads.values()) {
      byName.set(name, (byName.get(name) ?? 0) + ticks);
      total += ticks;
    }
    const nodeUser = nodeAfter.user - nodeBefore.user;
    const nodeSystem = nodeAfter.system - nodeBefore.system;
    const threadList = [...byName]
      .filter(([, ticks]) => ticks > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([name, ticks]) => `${name} ${perRecord(ticks).toFixed(1)}`)
      .join(', ');
    console.log(
      `run ${run + 1}: ${Math.round(EVENTS / seconds).toLocaleString('en')} documents/s; CPU µs per record: ` +
        `keepwire ${perRecord(total).toFixed(1)} (${threadList}); ` +
        `_bulk node ${perRecord(nodeUser + nodeSystem).toFixed(1)} ` +
        `(user ${perRecord(nodeUser).toFixed(1)}, system ${perRecord(nodeSystem).toFixed(1)})`,
    );
  }
} finally {
  await node.stop();
  rmSync(work, { recursive: true, force: true });
}
