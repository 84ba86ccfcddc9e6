/**
 * `keepwire ship` (disk buffer, fsync every 1000 ms) against syslog-ng 3.38's
 * `http()` destination (batching, `disk-buffer(reliable(yes))`), side by side
 * in one run, on the same input file of realistic ModSecurity JSON audit
 * records (bench/modsecurity-records.ts, ~1.65 KB each) and the same loopback
 * sinks: nginx answering 204, and a small counting HTTP server. Also measures
 * the disk's sequential write bandwidth for the same bytes (fsync every
 * 1000 ms) in the same run.
 *
 * A run is timed from spawn until every event is delivered: Keepwire exits
 * by itself (0 only when all are acknowledged); syslog-ng (which tails
 * forever) is done when `syslog-ng-ctl stats` shows all events written.
 *
 *   node bench/ship-vs-syslog-ng.ts [--events 50000] [--runs 3]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startCountingServer } from '../test/support/counting-server.ts';
import { sameChunk, writeChunksMs } from './disk-write.ts';
import { median } from './median.ts';
import { writeRecords } from './modsecurity-records.ts';
import { exited, fileSource, reliableDiskBuffer, timeSyslogNg } from './syslog-ng-process.ts';

const { values } = parseArgs({
  options: { events: { type: 'string', default: '50000' }, runs: { type: 'string', default: '3' } },
});
const EVENTS = Number(values.events);
const RUNS = Number(values.runs);
const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'kw-bench-ship-'));
const input = join(work, 'audit.ndjson');

/** The same bytes written sequentially, fdatasync every 1000 ms and at the end. */
function rawWriteMs(bytes: number): number {
  return writeChunksMs(join(work, 'raw'), sameChunk(bytes));
}

async function startNginx(): Promise<{ url: string; stop(): Promise<void> }> {
  const prefix = join(work, 'nginx');
  mkdirSync(join(prefix, 'logs'), { recursive: true });
  const probe = await startCountingServer();
  const port = Number(new URL(probe.url).port); // a free port, released at once
  await probe.close();
  writeFileSync(
    join(prefix, 'nginx.conf'),
    `daemon off;\nworker_processes 1;\npid ${prefix}/nginx.pid;\nerror_log ${prefix}/logs/error.log;\n` +
      `events { worker_connections 1024; }\nhttp {\n  access_log off;\n  client_body_buffer_size 8m;\n  client_max_body_size 64m;\n` +
      `  client_body_temp_path ${prefix}/body;\n  keepalive_requests 100000;\n` +
      `  server { listen 127.0.0.1:${port}; location / { return 204; } }\n}\n`,
  );
  const child = spawn('nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf')], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}' })).status === 204)
        break;
    } catch {}
    await sleep(50);
  }
  return {
    url: `http://127.0.0.1:${port}/ingest`,
    async stop() {
      child.kill('SIGQUIT');
      await exited(child);
    },
  };
}

async function runKeepwire(url: string, extra: readonly string[]): Promise<number> {
  const dataDir = mkdtempSync(join(work, 'kw-'));
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      join(root, 'bin/keepwire.js'),
      'ship',
      input,
      '--to',
      url,
      '--data-dir',
      dataDir,
      '--concurrency',
      '4',
      '--json',
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout!.on('data', (chunk) => {
    out += chunk;
  });
  const code = await exited(child);
  const elapsed = performance.now() - started;
  rmSync(dataDir, { recursive: true, force: true });
  const summary = JSON.parse(out) as { eventsRead: number; eventsPending: number };
  if (code !== 0 || summary.eventsRead !== EVENTS)
    throw new Error(`keepwire ship failed (${code}): ${out}`);
  return elapsed;
}

function syslogWritten(control: string): number {
  const stats =
    spawnSync('syslog-ng-ctl', ['stats', '-c', control], { encoding: 'utf8' }).stdout ?? '';
  const line = stats.split('\n').find((l) => l.startsWith('dst.http;') && l.includes(';written;'));
  return line ? Number(line.split(';').at(-1)) : 0;
}

function runSyslogNg(url: string): Promise<number> {
  return timeSyslogNg({
    workDir: work,
    source: fileSource(input),
    destination: (dir) =>
      `destination d_out { http(url("${url}") method("POST") headers("Content-Type: application/x-ndjson")\n` +
      `  body("\${MESSAGE}") delimiter("\\n") batch-lines(1000) batch-bytes(4096KiB) batch-timeout(100) workers(4)\n` +
      `  ${reliableDiskBuffer(dir)}); };`,
    isDone: (control) => syslogWritten(control) >= EVENTS,
  });
}

const inputBytes = await writeRecords(input, EVENTS);
const counting = await startCountingServer({ parse: false });
const nginx = await startNginx();
const sinks = [
  { name: 'nginx 204', url: nginx.url },
  { name: 'counting sink', url: `${counting.url}/ingest` },
];
const results: string[] = [];
try {
  const raw: number[] = [];
  for (let run = 0; run < RUNS; run++) raw.push(rawWriteMs(inputBytes));
  const diskMBs = inputBytes / 1e6 / (median(raw) / 1000);
  results.push(
    `input: ${EVENTS} ModSecurity JSON records, ${(inputBytes / 1e6).toFixed(1)} MB (${Math.round(inputBytes / EVENTS)} B each); median of ${RUNS} runs`,
  );
  results.push(`disk sequential write (fsync every 1000 ms): ${diskMBs.toFixed(0)} MB/s`);
  // keepwire ship's default checks every line is a JSON object; --shape-only
  // (trusted input) checks only {...} and UTF-8. syslog-ng checks neither.
  const modes = [
    { name: 'keepwire ship', args: [] },
    { name: 'keepwire ship --shape-only', args: ['--shape-only'] },
  ];
  for (const sink of sinks) {
    const keepwire: number[][] = modes.map(() => []);
    const syslog: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      // Alternate the order so neither tool always runs on a warmer machine.
      if (run % 2 === 1) syslog.push(await runSyslogNg(sink.url));
      for (const [i, mode] of modes.entries())
        keepwire[i]!.push(await runKeepwire(sink.url, mode.args));
      if (run % 2 === 0) syslog.push(await runSyslogNg(sink.url));
    }
    const sngRate = EVENTS / (median(syslog) / 1000);
    results.push(`${sink.name}: syslog-ng ${Math.round(sngRate).toLocaleString('en')} events/s`);
    for (const [i, mode] of modes.entries()) {
      const kwRate = EVENTS / (median(keepwire[i]!) / 1000);
      const kwMBs = inputBytes / 1e6 / (median(keepwire[i]!) / 1000);
      results.push(
        `${sink.name}: ${mode.name} ${Math.round(kwRate).toLocaleString('en')} events/s (${kwMBs.toFixed(0)} MB/s, ` +
          `${((kwMBs / diskMBs) * 100).toFixed(0)}% of disk), ratio to syslog-ng ${(kwRate / sngRate).toFixed(2)}x`,
      );
    }
  }
} finally {
  await nginx.stop();
  await counting.close();
  rmSync(work, { recursive: true, force: true });
}
for (const line of results) console.log(line);
