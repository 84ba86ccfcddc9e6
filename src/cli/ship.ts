import { mkdtempSync, rmSync, type Stats, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.ts';
import { FrameWorker } from '../pipeline/sources/frame-worker.ts';
import { type CliIo, type Command, parseOptions, writeJson } from './command.ts';
import { formatBytes, formatProgress } from './progress-bar.ts';
import {
  describeDelivery,
  resolveSink,
  SINK_HELP,
  SINK_OPTIONS,
  type SinkFlags,
  shipServiceFactory,
} from './ship-sink.ts';

const HELP = `Usage: keepwire ship [FILE...] --to URL [options]
       keepwire ship [FILE...] --sink opensearch --to URL[,URL...] [--index TEMPLATE] [options]
       keepwire ship [FILE...] --config FILE [--sink NAME] [options]

Ships NDJSON events (one JSON object per line) once: from the files given,
or from standard input when no file or "-" is given, through a durable disk
buffer, in batches over pooled keep-alive connections, to an HTTP collector
or into OpenSearch / Elasticsearch / the Wazuh indexer (_bulk, each event
created once under its event.id, in the index of its own date). It exits 0
only when every event is acknowledged by the sink. While standard input
stays open, the connections stay open and events flow as they come.

${SINK_HELP}

Options:
  --data-dir DIR           keep the buffer and dead-letter file in DIR: an
                           interrupted run resumes there (default: a temporary
                           directory, removed after a complete run)
  --shape-only             only check that each line looks like a JSON object
                           (starts with "{", ends with "}", valid UTF-8), not
                           that it parses: about 20 times cheaper, for input
                           you trust. A malformed line then reaches the
                           collector, which may refuse its whole batch into
                           the dead-letter file. Without it every line must be
                           a JSON object (RFC 8259); other lines are skipped
                           and counted
  --json                   print a JSON summary on standard output

A progress line (events, bytes, rate, ETA for files) is drawn on standard
error when it is a terminal, never otherwise.

Exit status: 0 every event acknowledged (an OpenSearch document already
there counts: it is not indexed twice); 1 some were refused by the sink
(they are in the dead-letter file named in the message), invalid input lines
were skipped, or the run was interrupted (Ctrl-C); 2 wrong usage.

Examples:
  keepwire ship audit.json --to http://127.0.0.1:9880/ingest
  zcat audit-*.json.gz | keepwire ship --to https://collector:8443/v1/events
  tail -F /var/log/modsec_audit.json | keepwire ship - --to http://127.0.0.1:9880/
  keepwire ship big.ndjson --to http://c:9880/ --concurrency 8 --batch-max-bytes 4000000 --json
  keepwire ship events.ndjson --config /etc/keepwire.yaml --sink opensearch --data-dir /var/lib/kw-ship
  keepwire ship audit-*.ndjson --sink opensearch --to https://indexer:9200 \\
      --index wazuh-alerts-4.x-%Y.%m.%d --user admin --password-file /etc/kw/indexer.pw \\
      --ca-file /etc/wazuh-indexer/certs/root-ca.pem
  keepwire ship old.ndjson --sink opensearch --to http://es-1:9200,http://es-2:9200 --json
`;

export const shipCommand: Command = {
  name: 'ship',
  summary: 'ship NDJSON files or standard input once to an HTTP collector or OpenSearch, durably',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseOptions(
      args,
      {
        ...SINK_OPTIONS,
        'data-dir': { type: 'string' },
        json: { type: 'boolean' },
        'shape-only': { type: 'boolean' },
      },
      'ship',
      true,
    );
    for (const path of positionals) if (path !== '-') checkInput(path);
    // The framing worker boots on the other core while this thread loads
    // the rest (the sink's schema, undici, pino: ~150 ms of start-up).
    const frameWorker = new FrameWorker({
      maxLineBytes: 1024 * 1024,
      check: values['shape-only'] ? 'shape' : 'json',
    });
    try {
      return await ship(values, positionals, io, frameWorker);
    } finally {
      await frameWorker.close();
    }
  },
};

async function ship(
  values: ShipValues,
  positionals: string[],
  io: CliIo,
  frameWorker: FrameWorker,
): Promise<number> {
  const [{ shipOnce }, { createLogger, createRegistry }] = await Promise.all([
    import('../pipeline/ship-once.ts'),
    import('../telemetry/index.ts'),
  ]);
  const sink = await resolveSink(values, io);
  const createService = await shipServiceFactory(sink);
  const dataDir = values['data-dir'] ?? mkdtempSync(join(tmpdir(), 'keepwire-ship-'));
  const inputs = (positionals.length === 0 ? ['-'] : positionals).map((path) => ({ path }));
  const controller = new AbortController();
  const stop = () => {
    controller.abort(new Error('interrupted'));
    process.stdin.destroy();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const stderr = io.stderr as NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  const isTty = stderr.isTTY === true;
  const summary = await shipOnce({
    inputs,
    sink,
    createService,
    dataDir,
    stdin: process.stdin,
    registry: createRegistry({ processMetrics: false }),
    logger: createLogger({
      level: (io.env.KEEPWIRE_LOG__LEVEL as 'warn') ?? 'warn',
      format: io.env.KEEPWIRE_LOG__FORMAT as 'auto' | undefined,
    }),
    signal: controller.signal,
    frameWorker,
    onProgress: isTty
      ? (progress) =>
          stderr.write(`\r\x1b[K${formatProgress(progress, Date.now(), stderr.columns ?? 100)}`)
      : undefined,
  });
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  if (isTty) stderr.write('\n');
  if (values.json) writeJson(io, summary);
  else {
    const rate = summary.eventsRead / Math.max(0.001, summary.elapsedMs / 1000);
    io.stderr.write(
      `keepwire ship: ${summary.eventsRead - summary.eventsPending} of ${summary.eventsRead} events acknowledged ` +
        `(${formatBytes(summary.bytesRead)} in ${(summary.elapsedMs / 1000).toFixed(1)} s, ${Math.round(rate)} events/s): ` +
        `${describeDelivery(sink, summary)}\n`,
    );
  }
  if (summary.deadLettered > 0) {
    io.stderr.write(
      `keepwire ship: the sink refused ${summary.deadLettered} event(s) for good; look in the dead-letter file at ${summary.deadLetterPath} ` +
        `(each line has the reason and the sink's answer), fix the events or the sink, and ship that file's events again\n`,
    );
  }
  if (summary.eventsRejectedAtInput > 0) {
    io.stderr.write(
      `keepwire ship: skipped ${summary.eventsRejectedAtInput} input line(s) that were not JSON objects or were too long; fix them and ship them again\n`,
    );
  }
  if (summary.eventsPending > 0) {
    io.stderr.write(
      `keepwire ship: interrupted with ${summary.eventsPending} events not yet acknowledged; they are kept in ${dataDir}: ` +
        `run again with --data-dir ${dataDir} to send them\n`,
    );
  }
  if (summary.isComplete && values['data-dir'] === undefined)
    rmSync(dataDir, { recursive: true, force: true });
  return summary.isComplete ? 0 : 1;
}

/** A usage error, before anything starts, for an input that cannot be read as a file. */
function checkInput(path: string): void {
  let stat: Stats;
  try {
    stat = statSync(path);
  } catch (error) {
    throw new UsageError(
      `cannot read ${path} (${(error as NodeJS.ErrnoException).code}); give NDJSON files, or - for standard input`,
    );
  }
  if (stat.isDirectory()) {
    throw new UsageError(
      `${path} is a directory; give its files (a shell glob such as ${path}/*.json), or - for standard input`,
    );
  }
}

interface ShipValues extends SinkFlags {
  'data-dir'?: string;
  json?: boolean;
  'shape-only'?: boolean;
}
