/**
 * ModSecurity audit records from a serial log into a local `_bulk`
 * endpoint, parsed, normalized and indexed, side by side in one run:
 *
 * - `keepwire ship --from modsecurity --sink opensearch` (framing on the
 *   framing worker, the ModSecurity decoder on the decode pool's threads,
 *   disk buffer with fsync every 1000 ms, `_bulk` with `create` and the
 *   event's own id), on the JSON log and on the same transactions in the
 *   Native format; and with `--decode-threads 0` (decoded on the framing
 *   worker, as before the pool) on the JSON log;
 * - syslog-ng 3.38's `elasticsearch-http()` (syslog-ng-scl) with a reliable
 *   disk buffer, with `json-parser()` (each record parsed, the document
 *   written from its fields with `format-json`, `_id` from the unique id),
 *   and without it (the raw line as the document); each tuned (workers and
 *   batches as keepwire's, the file source reading ahead) and with the
 *   driver's and the source's default settings.
 *
 * The `_bulk` node runs in a process of its own (bench/bulk-server-process.ts:
 * every action line parsed and answered item by item, sources neither parsed
 * nor kept, so it costs both tools alike and little). A run is timed from spawn until the node holds
 * every document (keepwire exits by itself once all are acknowledged;
 * syslog-ng tails forever). Runs alternate between the tools; medians of
 * `--runs`; ratios are keepwire / syslog-ng. The most connections the node
 * saw open at once during each run is printed (keepwire's must never pass
 * its concurrency).
 *
 *   flock /tmp/keepwire-bench.lock node_modules/.bin/node bench/modsecurity-vs-syslog-ng.ts \
 *     [--events 200000] [--runs 3] [--concurrency 4]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { modsecurityShipArgs, startBulkNodeProcess } from './bulk-node-client.ts';
import { median } from './median.ts';
import { writeRecords } from './modsecurity-records.ts';
import { exited, fileSource, reliableDiskBuffer, timeSyslogNg } from './syslog-ng-process.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    runs: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '4' },
  },
});
const EVENTS = Number(values.events);
const RUNS = Number(values.runs);
const CONCURRENCY = Number(values.concurrency);
const BATCH = 1000;
const work = mkdtempSync(join(tmpdir(), 'kw-bench-modsec-'));

interface NodeStats {
  readonly documents: number;
  readonly maxOpen: number;
}

const node = await startBulkNodeProcess();
const { port, ask } = node;
const url = `http://127.0.0.1:${port}`;

async function runKeepwire(
  input: string,
  extra: readonly string[] = [],
): Promise<{ ms: number; maxOpen: number }> {
  await ask('reset');
  const dataDir = mkdtempSync(join(work, 'kw-'));
  const started = performance.now();
  const child = spawn(
    process.execPath,
    modsecurityShipArgs({
      input,
      url,
      dataDir,
      concurrency: CONCURRENCY,
      batchEvents: BATCH,
      extra,
    }),
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout!.on('data', (chunk) => {
    out += chunk;
  });
  await exited(child);
  const ms = performance.now() - started;
  rmSync(dataDir, { recursive: true, force: true });
  const stats = await ask<NodeStats>('stats');
  if (child.exitCode !== 0 || stats.documents !== EVENTS)
    throw new Error(`keepwire ship (${child.exitCode}): ${stats.documents} documents; ${out}`);
  return { ms, maxOpen: stats.maxOpen };
}

/**
 * elasticsearch-http() with a reliable disk buffer; with json-parser() or raw
 * lines. Tuned: the file source reads ahead, and the driver's workers,
 * batches and timeout match keepwire's concurrency and batch size. Default:
 * the driver's own defaults (workers(4), batch-lines(100), syslog-ng-scl's
 * elastic-http.conf) and the file source's, the disk buffer's size only.
 */
function runSyslogNg(input: string, isParsing: boolean, isDefault: boolean): Promise<number> {
  const document = isParsing
    ? `template("$(format-json --scope none --key .modsec.* --shift-levels 2 @timestamp=\${ISODATE})") custom_id("\${.modsec.transaction.unique_id}")`
    : `template("\${MESSAGE}")`;
  const tuning = isDefault
    ? ''
    : `\n  workers(${CONCURRENCY}) batch-lines(${BATCH}) batch-bytes(4096KiB) batch-timeout(100)`;
  return timeSyslogNg({
    workDir: work,
    source: fileSource(input, isDefault),
    parser: isParsing ? `parser { json-parser(prefix(".modsec.")); };` : undefined,
    destination: (dir) =>
      `destination d_out { elasticsearch-http(url("${url}/_bulk") index("modsec") type("") ${document}${tuning}\n` +
      `  ${reliableDiskBuffer(dir, isDefault)}); };`,
    isDone: async () => (await ask<NodeStats>('stats')).documents >= EVENTS,
  });
}

async function measureSyslogNg(
  input: string,
  isParsing: boolean,
  isDefault: boolean,
): Promise<{ ms: number; maxOpen: number }> {
  await ask('reset');
  const ms = await runSyslogNg(input, isParsing, isDefault);
  return { ms, maxOpen: (await ask<NodeStats>('stats')).maxOpen };
}

const jsonLog = join(work, 'audit-json.log');
const nativeLog = join(work, 'audit-native.log');
const jsonBytes = await writeRecords(jsonLog, EVENTS, 1, 'json');
const nativeBytes = await writeRecords(nativeLog, EVENTS, 1, 'native');
const contenders = [
  { name: 'keepwire ship --from modsecurity (JSON)', run: () => runKeepwire(jsonLog) },
  {
    name: 'keepwire ship --from modsecurity (JSON) --decode-threads 0',
    run: () => runKeepwire(jsonLog, ['--decode-threads', '0']),
  },
  {
    name: 'syslog-ng elasticsearch-http() + json-parser(), tuned',
    run: () => measureSyslogNg(jsonLog, true, false),
  },
  {
    name: 'syslog-ng elasticsearch-http(), raw lines, tuned',
    run: () => measureSyslogNg(jsonLog, false, false),
  },
  {
    name: 'syslog-ng elasticsearch-http() + json-parser(), defaults',
    run: () => measureSyslogNg(jsonLog, true, true),
  },
  {
    name: 'syslog-ng elasticsearch-http(), raw lines, defaults',
    run: () => measureSyslogNg(jsonLog, false, true),
  },
  { name: 'keepwire ship --from modsecurity (Native)', run: () => runKeepwire(nativeLog) },
];
const samples = contenders.map(() => ({ ms: [] as number[], maxOpen: 0 }));
try {
  for (let run = 0; run < RUNS; run++) {
    // Alternate the order so no tool always runs on a warmer machine.
    const order = run % 2 === 0 ? contenders.keys() : [...contenders.keys()].reverse();
    for (const i of order) {
      const { ms, maxOpen } = await contenders[i]!.run();
      samples[i]!.ms.push(ms);
      samples[i]!.maxOpen = Math.max(samples[i]!.maxOpen, maxOpen);
    }
  }
} finally {
  await node.stop();
  rmSync(work, { recursive: true, force: true });
}
const rate = (i: number) => EVENTS / (median(samples[i]!.ms) / 1000);
console.log(
  `input: ${EVENTS} ModSecurity records, JSON ${(jsonBytes / EVENTS).toFixed(0)} B each, ` +
    `Native ${(nativeBytes / EVENTS).toFixed(0)} B each; concurrency ${CONCURRENCY}, batches of ${BATCH}; median of ${RUNS} runs`,
);
for (const [i, contender] of contenders.entries()) {
  console.log(
    `${contender.name}: ${Math.round(rate(i)).toLocaleString('en')} documents/s ` +
      `(runs ${samples[i]!.ms.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s; at most ${samples[i]!.maxOpen} connections open at once)`,
  );
}
const ratio = (kw: number, sng: number, target: number) =>
  `${(rate(kw) / rate(sng)).toFixed(2)}x (target >= ${target}x)`;
console.log(`keepwire JSON / syslog-ng + json-parser(), tuned: ${ratio(0, 2, 5)}`);
console.log(`keepwire JSON / syslog-ng raw lines, tuned: ${ratio(0, 3, 2)}`);
console.log(`keepwire JSON / syslog-ng + json-parser(), defaults: ${ratio(0, 4, 5)}`);
console.log(`keepwire JSON / syslog-ng raw lines, defaults: ${ratio(0, 5, 2)}`);
console.log(
  `keepwire JSON / the issue's figures (6,200 with json-parser(), 30,000 raw): ` +
    `${(rate(0) / 6200).toFixed(2)}x, ${(rate(0) / 30000).toFixed(2)}x`,
);
console.log(`decode pool / --decode-threads 0: ${(rate(0) / rate(1)).toFixed(2)}x`);
console.log(`keepwire Native / syslog-ng + json-parser(), tuned: ${ratio(6, 2, 5)}`);
