/**
 * Connections per 100,000 events and TIME_WAIT sockets left behind:
 * Keepwire's HTTP sink (sink driver + HTTP service + pooled keep-alive
 * connections, from a memory buffer) against a client that opens one
 * connection per event as ModSecurity v3's HTTPS audit log does (node:http,
 * agent:false, `Connection: close`), both posting the same realistic
 * ModSecurity records to the same kind of loopback nginx answering 204,
 * side by side in one run. Each run gets a fresh nginx on a fresh port so
 * the TIME_WAIT count (`ss state time-wait` on that port, both directions)
 * belongs to that run alone. Connections are counted twice: by Keepwire's
 * ledger (or the client's own count) and by nginx's access log
 * (distinct `$connection`).
 *
 *   node bench/connections.ts [--events 100000] [--per-event-events 5000]
 *        [--concurrency 4] [--runs 3]
 *
 * The per-event client is run on fewer events by default: 100,000
 * connections to one destination inside the 60 s TIME_WAIT period would
 * exhaust the ephemeral port range (that is the failure being measured);
 * its counts are scaled to 100,000 events and marked as such.
 */
import { execFileSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { parseArgs } from 'node:util';
import { MemoryBuffer } from '../src/pipeline/buffer/memory.ts';
import { SinkDriver } from '../src/pipeline/sinks/driver.ts';
import { httpSinkSchema } from '../src/pipeline/sinks/http/config.ts';
import { createHttpSinkService } from '../src/pipeline/sinks/http/index.ts';
import { createLogger, createRegistry } from '../src/telemetry/index.ts';
import { Nginx } from '../test/support/nginx.ts';
import { median } from './median.ts';
import { makeRecord } from './modsecurity-records.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    'per-event-events': { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '4' },
    runs: { type: 'string', default: '3' },
  },
});
const EVENTS = Number(values.events);
const PER_EVENT_EVENTS = Number(values['per-event-events']);
const CONCURRENCY = Number(values.concurrency);
const RUNS = Number(values.runs);

interface Sample {
  readonly events: number;
  readonly opened: number;
  readonly nginxConnections: number;
  readonly timeWait: number;
  readonly seconds: number;
}

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const random = seeded(7);
const records = Array.from({ length: Math.max(EVENTS, PER_EVENT_EVENTS) }, (_, index) =>
  Buffer.from(makeRecord(index, random)),
);

function timeWaitOn(port: number): number {
  const text = execFileSync(
    'ss',
    ['-tanH', 'state', 'time-wait', `( dport = :${port} or sport = :${port} )`],
    {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  return text.split('\n').filter(Boolean).length;
}

async function runKeepwire(): Promise<Sample> {
  const nginx = await Nginx.start({});
  // Nginx.start's readiness probe leaves one TIME_WAIT socket: not ours to count.
  const baseline = timeWaitOn(nginx.port);
  const registry = createRegistry({ processMetrics: false });
  const logger = createLogger({ level: 'silent' });
  const buffer = new MemoryBuffer({ maxEvents: EVENTS + 1 });
  const config = httpSinkSchema.parse({ type: 'http', url: `${nginx.url}/audit` });
  const service = createHttpSinkService(config, {
    name: 'bench',
    concurrency: CONCURRENCY,
    registry,
    logger,
  });
  const driver = new SinkDriver({
    name: 'bench',
    buffer,
    service,
    concurrency: CONCURRENCY,
    batch: { maxEvents: 1_000, maxBytes: 4 * 1024 * 1024, lingerMs: 100 },
    retry: { initialBackoffMs: 100, maxBackoffMs: 5_000 },
    deadLetterPath: '/dev/null',
    registry,
    logger,
  });
  const started = performance.now();
  driver.start();
  for (let at = 0; at < EVENTS; at += 1_000)
    await buffer.append(records.slice(at, Math.min(EVENTS, at + 1_000)));
  while (buffer.pendingEvents > 0) await new Promise((resolve) => setTimeout(resolve, 5));
  const seconds = (performance.now() - started) / 1000;
  await driver.stop();
  await buffer.close();
  await new Promise((resolve) => setTimeout(resolve, 200));
  const sample = {
    events: EVENTS,
    opened: service.pool.ledger.snapshot().opened,
    nginxConnections: nginx.connectionCount(),
    timeWait: timeWaitOn(nginx.port) - baseline,
    seconds,
  };
  await nginx.dispose();
  return sample;
}

function postOnce(port: number, body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/audit',
        agent: false,
        headers: {
          connection: 'close',
          'content-type': 'application/json',
          'content-length': body.length,
        },
      },
      (response) => {
        response.resume();
        response.on('end', () =>
          response.statusCode === 204
            ? resolve()
            : reject(new Error(`status ${response.statusCode}`)),
        );
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

async function runPerEvent(): Promise<Sample> {
  const nginx = await Nginx.start({});
  const baseline = timeWaitOn(nginx.port);
  let next = 0;
  let opened = 0;
  const started = performance.now();
  const loop = async (): Promise<void> => {
    while (next < PER_EVENT_EVENTS) {
      const index = next++;
      opened += 1;
      await postOnce(nginx.port, records[index]!);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  const seconds = (performance.now() - started) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 200));
  const sample = {
    events: PER_EVENT_EVENTS,
    opened,
    nginxConnections: nginx.connectionCount(),
    timeWait: timeWaitOn(nginx.port) - baseline,
    seconds,
  };
  await nginx.dispose();
  return sample;
}

function summarise(samples: Sample[]) {
  const events = samples[0]!.events;
  const per100k = (value: number) => (value * 100_000) / events;
  return {
    events,
    opened: median(samples.map((sample) => sample.opened)),
    nginx: median(samples.map((sample) => sample.nginxConnections)),
    per100k: per100k(median(samples.map((sample) => sample.nginxConnections))),
    timeWait: median(samples.map((sample) => sample.timeWait)),
    timeWaitPer100k: per100k(median(samples.map((sample) => sample.timeWait))),
    eventsPerSecond: median(samples.map((sample) => sample.events / sample.seconds)),
  };
}

const keepwire: Sample[] = [];
const perEvent: Sample[] = [];
for (let run = 0; run < RUNS; run += 1) {
  keepwire.push(await runKeepwire());
  perEvent.push(await runPerEvent());
  process.stderr.write(`run ${run + 1}/${RUNS} done\n`);
}
const k = summarise(keepwire);
const p = summarise(perEvent);
const row = (name: string, s: ReturnType<typeof summarise>) => {
  const scaled = s.events !== 100_000;
  return `| ${name} | ${s.events} | ${s.opened} | ${s.nginx} | ${Math.round(s.per100k)}${scaled ? ' (scaled)' : ''} | ${s.timeWait} | ${Math.round(s.timeWaitPer100k)}${scaled ? ' (scaled)' : ''} | ${Math.round(s.eventsPerSecond)} |`;
};
console.log(
  `median of ${RUNS} runs, concurrency ${CONCURRENCY}, nginx 204 on loopback, ${records[0]!.length}-byte ModSecurity records`,
);
console.log(
  '| client | events | connections (own count) | connections (nginx log) | per 100k events | TIME_WAIT left | TIME_WAIT per 100k | events/s |',
);
console.log('|---|---|---|---|---|---|---|---|');
console.log(row('Keepwire http sink (pooled)', k));
console.log(row('one connection per event (ModSecurity-like)', p));
console.log(
  `ratios per 100k events: connections ${(p.per100k / Math.max(k.per100k, 1)).toFixed(0)}x fewer, TIME_WAIT ${(p.timeWaitPer100k / Math.max(k.timeWaitPer100k, 1)).toFixed(0)}x fewer, events/s ${(k.eventsPerSecond / p.eventsPerSecond).toFixed(1)}x; target <= ${CONCURRENCY} connections per 100k: ${k.nginx <= CONCURRENCY && k.events >= 100_000 ? 'met' : 'missed'}`,
);
