/**
 * The opensearch sink next to the http sink, against the same local server:
 * a `_bulk` test node (test/support/bulk) in a process of its own, which
 * takes `_bulk` requests and, for the http sink, plain NDJSON POSTs on
 * `/_plain`, storing every document either way. Each sink is the real
 * service and the shared driver, fed from a memory buffer filled before the
 * clock starts, so the figure is the sink's: encoding, requests, answers
 * (`_bulk` item by item), acknowledgement. Runs alternate between the
 * sinks; medians of `--runs`; the ratio is opensearch / http. The CPU time
 * of this process per document is the sinks' own cost (the node's work,
 * heavier for `_bulk` than for plain NDJSON, is in the other process).
 *
 * Then the connection rules over whole runs: the most connections the node
 * saw open at once from each sink (never above the sink's concurrency),
 * the ledger against the node's count, and a hygiene run of the opensearch
 * sink during which the node restarts twice (every socket closed, the same
 * port), after which it restarts once more and, 1 s later, `ss` must show
 * no socket of this process in CLOSE-WAIT.
 *
 *   flock /tmp/keepwire-bench.lock node_modules/.bin/node bench/opensearch-sink.ts \
 *     [--events 100000] [--concurrency 4] [--batch 1000] [--runs 5]
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { ConnectionLedger } from '../src/net/index.ts';
import { MemoryBuffer } from '../src/pipeline/buffer/memory.ts';
import { SinkDriver } from '../src/pipeline/sinks/driver.ts';
import { httpSinkSchema } from '../src/pipeline/sinks/http/config.ts';
import { createHttpSinkService } from '../src/pipeline/sinks/http/index.ts';
import { opensearchSinkSchema } from '../src/pipeline/sinks/opensearch/config.ts';
import { createOpensearchSinkService } from '../src/pipeline/sinks/opensearch/index.ts';
import type { SinkService } from '../src/pipeline/sinks/service.ts';
import { createLogger, createRegistry } from '../src/telemetry/index.ts';
import { median } from './median.ts';
import { makeRecord, mulberry32 } from './modsecurity-records.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    concurrency: { type: 'string', default: '4' },
    batch: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '5' },
  },
});
const EVENTS = Number(values.events);
const CONCURRENCY = Number(values.concurrency);
const BATCH = Number(values.batch);
const RUNS = Number(values.runs);

type Kind = 'opensearch' | 'http';

interface NodeStats {
  readonly documents: number;
  readonly accepted: number;
  readonly open: number;
  readonly maxOpen: number;
  readonly bulkRequests: number;
}

interface Sample {
  readonly seconds: number;
  /** CPU time of this process (the sink's side) per document, in microseconds. */
  readonly cpuMicrosPerDocument: number;
  readonly opened: number;
  readonly accepted: number;
  readonly maxOpen: number;
}

/** Normalized events as the ModSecurity decoder makes them: @timestamp, event.id, the record. */
const random = mulberry32(11);
const records = Array.from({ length: EVENTS }, (_, index) => {
  const record = makeRecord(index, random);
  const second = String(index % 60).padStart(2, '0');
  return Buffer.from(
    `{"@timestamp":"2026-11-2${index % 3}T04:39:${second}.000Z","event":{"id":"ZkW${index.toString(36).padStart(8, '0')}"},${record.slice(1)}`,
  );
});
const recordBytes = Math.round(records.reduce((sum, record) => sum + record.length, 0) / EVENTS);

const server = spawn(
  process.execPath,
  [new URL('./bulk-server-process.ts', import.meta.url).pathname],
  {
    stdio: ['pipe', 'pipe', 'inherit'],
  },
);
const replies = createInterface({ input: server.stdout! })[Symbol.asyncIterator]();
async function reply<T>(): Promise<T> {
  const line = await replies.next();
  if (line.done) throw new Error('the bulk server process ended');
  return JSON.parse(line.value) as T;
}
async function command<T>(text: string): Promise<T> {
  server.stdin!.write(`${text}\n`);
  return reply<T>();
}
const { port } = await reply<{ port: number }>();
const origin = `http://127.0.0.1:${port}`;

function createService(kind: Kind, registry: ReturnType<typeof createRegistry>) {
  const deps = {
    name: kind,
    concurrency: CONCURRENCY,
    registry,
    logger: createLogger({ level: 'silent' }),
  };
  if (kind === 'http') {
    const service = createHttpSinkService(
      httpSinkSchema.parse({ type: 'http', url: `${origin}/_plain` }),
      deps,
    );
    return { service: service as SinkService, ledgers: [service.pool.ledger] };
  }
  const config = opensearchSinkSchema.parse({
    type: 'opensearch',
    endpoints: [origin],
    index: 'modsec-%Y.%m.%d',
  });
  const service = createOpensearchSinkService(config, deps);
  return {
    service: service as SinkService,
    ledgers: service.endpoints.map((endpoint) => endpoint.pool.ledger),
  };
}

/** One run: fill a buffer, start the clock, deliver everything; `during` may act mid-run. */
async function run(kind: Kind, during?: (delivered: number) => Promise<void>): Promise<Sample> {
  await command('reset');
  const registry = createRegistry({ processMetrics: false });
  const { service, ledgers } = createService(kind, registry);
  const buffer = new MemoryBuffer({ maxEvents: EVENTS + 1 });
  for (let at = 0; at < EVENTS; at += 10_000) await buffer.append(records.slice(at, at + 10_000));
  const driver = new SinkDriver({
    name: kind,
    buffer,
    service,
    concurrency: CONCURRENCY,
    batch: { maxEvents: BATCH, maxBytes: 8 * 1024 * 1024, lingerMs: 5 },
    retry: { initialBackoffMs: 20, maxBackoffMs: 500 },
    deadLetterPath: '/dev/null',
    registry,
    logger: createLogger({ level: 'silent' }),
  });
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  driver.start();
  while (buffer.pendingEvents > 0) {
    await sleep(2);
    if (during) await during(EVENTS - buffer.pendingEvents);
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  await driver.stop();
  await buffer.close();
  const stats = await command<NodeStats>('stats');
  if (stats.documents !== EVENTS)
    throw new Error(`${kind}: the node holds ${stats.documents} documents of ${EVENTS}`);
  if (driver.counts.deadLettered > 0)
    throw new Error(`${kind}: ${driver.counts.deadLettered} dead-lettered`);
  const cpuMicrosPerDocument = (cpu.user + cpu.system) / EVENTS;
  return {
    seconds,
    cpuMicrosPerDocument,
    opened: sumOpened(ledgers),
    accepted: stats.accepted,
    maxOpen: stats.maxOpen,
  };
}

function sumOpened(ledgers: readonly ConnectionLedger[]): number {
  return ledgers.reduce((sum, ledger) => sum + ledger.snapshot().opened, 0);
}

function closeWaitOfThisProcess(): number {
  const out = execFileSync('ss', ['-tanpH', 'state', 'close-wait'], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.includes(`pid=${process.pid},`)).length;
}

const samples: Record<Kind, Sample[]> = { opensearch: [], http: [] };
for (let index = 0; index < RUNS; index += 1) {
  const order: Kind[] = index % 2 === 0 ? ['opensearch', 'http'] : ['http', 'opensearch'];
  for (const kind of order) samples[kind].push(await run(kind));
  process.stderr.write(`run ${index + 1}/${RUNS} done\n`);
}

// Hygiene: the node restarts twice mid-run, then once more after it; 1 s later, no CLOSE-WAIT.
let restarts = 0;
const hygiene = await run('opensearch', async (delivered) => {
  if (restarts < 2 && delivered >= ((restarts + 1) * EVENTS) / 3) {
    restarts += 1;
    await command('restart');
  }
});
await command('restart');
await sleep(1_000);
const closeWait = closeWaitOfThisProcess();

server.stdin!.end();
await once(server, 'exit');

const rate = (sample: Sample) => EVENTS / sample.seconds;
const row = (kind: Kind) => {
  const runs = samples[kind];
  const rates = runs.map(rate);
  const cpu = median(runs.map((s) => s.cpuMicrosPerDocument));
  return `| ${kind} sink | ${Math.round(median(rates)).toLocaleString('en')} | ${Math.round(Math.min(...rates)).toLocaleString('en')}–${Math.round(Math.max(...rates)).toLocaleString('en')} | ${cpu.toFixed(1)} | ${Math.max(...runs.map((s) => s.maxOpen))} | ${median(runs.map((s) => s.opened))} / ${median(runs.map((s) => s.accepted))} |`;
};
console.log(
  `${EVENTS.toLocaleString('en')} events of ${recordBytes} bytes (normalized ModSecurity records), concurrency ${CONCURRENCY}, batches of ${BATCH}, median of ${RUNS} runs, one local _bulk test node in its own process`,
);
console.log(
  '| sink | documents/s (median) | range | sink CPU µs per document (median) | most connections open at once | connections: ledger / node (median) |',
);
console.log('|---|---|---|---|---|---|');
console.log(row('opensearch'));
console.log(row('http'));
const ratio = median(samples.opensearch.map(rate)) / median(samples.http.map(rate));
const most = Math.max(...[...samples.opensearch, ...samples.http, hygiene].map((s) => s.maxOpen));
const cpuRatio =
  median(samples.opensearch.map((s) => s.cpuMicrosPerDocument)) /
  median(samples.http.map((s) => s.cpuMicrosPerDocument));
console.log(
  `ratio opensearch / http: documents/s ${ratio.toFixed(2)}, sink CPU per document ${cpuRatio.toFixed(2)}`,
);
console.log(
  `hygiene run (node restarted ${restarts} times mid-run): ${Math.round(rate(hygiene)).toLocaleString('en')} documents/s, ${hygiene.opened} connections opened (ledger), node saw at most ${hygiene.maxOpen} open at once; ` +
    `connections per endpoint never above concurrency ${CONCURRENCY}: ${most <= CONCURRENCY ? 'met' : `MISSED (${most})`}; ` +
    `CLOSE-WAIT sockets of this process 1 s after a restart: ${closeWait}${closeWait === 0 ? ' (met)' : ' (MISSED)'}`,
);
