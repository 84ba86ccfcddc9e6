import { mkdtempSync, rmSync, type Stats, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.ts';
import { DecodePool } from '../pipeline/sources/decode-pool.ts';
import { FrameWorker } from '../pipeline/sources/frame-worker.ts';
import { type CliIo, type Command, parseOptions, writeJson } from './command.ts';
import { formatBytes, formatProgress } from './progress-bar.ts';
import {
  INPUT_HELP,
  INPUT_OPTIONS,
  type InputFlags,
  type InputSettings,
  MalformedReport,
  resolveInput,
} from './ship-input.ts';
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
       keepwire ship --from modsecurity FILE... --sink opensearch --to URL[,URL...] [options]
       keepwire ship [FILE...] --config FILE [--sink NAME] [options]

Ships NDJSON events (one JSON object per line), or ModSecurity audit logs
parsed into normalized events (--from modsecurity), once: from the files given,
or from standard input when no file or "-" is given, through a durable disk
buffer, in batches over pooled keep-alive connections, to an HTTP collector
or into OpenSearch / Elasticsearch / the Wazuh indexer (_bulk, each event
created once under its event.id, in the index of its own date). It exits 0
only when every event is acknowledged by the sink. While standard input
stays open, the connections stay open and events flow as they come.

${INPUT_HELP}

${SINK_HELP}

Options:
  --data-dir DIR           keep the buffer, the dead-letter file and how far
                           each input file was read in DIR: run again with
                           it (and the same files, or none) to finish an
                           interrupted run where it stopped; a different
                           file at the same path is read from the start;
                           standard input cannot be resumed (default: a
                           temporary directory, removed after a complete run)
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

The summary says how many events were indexed (delivered), already present,
dead-lettered, and how many input lines or records were malformed.

Exit status: 0 every event acknowledged (an OpenSearch document already
there counts: it is not indexed twice); 1 some were refused by the sink
(they are in the dead-letter file named in the message), invalid input lines
or malformed records were skipped, or the run was interrupted (Ctrl-C); 2
wrong usage.

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
  keepwire ship --from modsecurity /var/log/modsec_audit.log* --sink opensearch \\
      --to https://indexer:9200 --index wazuh-alerts-4.x-%Y.%m.%d --ca-file root-ca.pem
  keepwire ship --from modsecurity /backup/modsec/index.log --storage-dir /backup/modsec/data \\
      --sink opensearch --to http://127.0.0.1:9200
`;

export const shipCommand: Command = {
  name: 'ship',
  summary: 'ship NDJSON or ModSecurity audit logs once to an HTTP collector or OpenSearch, durably',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseOptions(
      args,
      {
        ...SINK_OPTIONS,
        ...INPUT_OPTIONS,
        'data-dir': { type: 'string' },
        json: { type: 'boolean' },
        'shape-only': { type: 'boolean' },
      },
      'ship',
      true,
    );
    const input = resolveInput(values);
    for (const path of positionals) if (path !== '-') checkInput(path);
    // The framing worker (and the decode pool) boot on the other core while
    // this thread loads the rest (the sink's schema, undici, pino: ~150 ms).
    const decodePool =
      input.from === 'modsecurity' && input.decodeThreads > 0
        ? new DecodePool({ threads: input.decodeThreads })
        : undefined;
    const frameWorker = new FrameWorker(
      {
        maxLineBytes: 1024 * 1024,
        check: values['shape-only'] ? 'shape' : 'json',
        from: input.from,
        storageDir: input.storageDir,
      },
      decodePool,
    );
    try {
      return await ship(values, input, positionals, io, frameWorker);
    } finally {
      await frameWorker.close();
      await decodePool?.close();
    }
  },
};

async function ship(
  values: ShipValues,
  input: InputSettings,
  positionals: string[],
  io: CliIo,
  frameWorker: FrameWorker,
): Promise<number> {
  const [{ shipOnce, shipInputPlan }, { createLogger, createRegistry }] = await Promise.all([
    import('../pipeline/ship-once.ts'),
    import('../telemetry/index.ts'),
  ]);
  const sink = await resolveSink(values, io);
  const createService = await shipServiceFactory(sink);
  const dataDir = values['data-dir'] ?? mkdtempSync(join(tmpdir(), 'keepwire-ship-'));
  const plan = shipInputPlan(dataDir, positionals, input.from);
  if (plan.manifest.wasStdinInterrupted)
    io.stderr.write(
      `keepwire ship: the interrupted run in ${dataDir} read standard input, which cannot be resumed: ` +
        'what it buffered is sent now; give the rest of that input again\n',
    );
  if (plan.manifest.isFromOlderVersion && plan.manifest.unfinished().length > 0)
    io.stderr.write(
      `keepwire ship: ${dataDir} was written by an older Keepwire, which kept its latest checkpoints beside the buffer: ` +
        'each unfinished file resumes from its last durable checkpoint, so events read after it may be sent twice\n',
    );
  if (positionals.length === 0 && plan.inputs.length > 0 && plan.inputs[0]!.path !== '-')
    io.stderr.write(
      `keepwire ship: going on with the ${plan.inputs.length} input(s) the interrupted run in ${dataDir} did not finish\n`,
    );
  const controller = new AbortController();
  const stop = () => {
    controller.abort(new Error('interrupted'));
    process.stdin.destroy();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const stderr = io.stderr as NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  const isTty = stderr.isTTY === true;
  const malformed = new MalformedReport(io.stderr, isTty);
  const isModsecurity = input.from === 'modsecurity';
  const summary = await shipOnce({
    plan,
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
    onReject: isModsecurity
      ? (path, reason, line, detail) => malformed.add(path, reason, line, detail)
      : undefined,
    onProgress: isTty
      ? (progress) =>
          stderr.write(`\r\x1b[K${formatProgress(progress, Date.now(), stderr.columns ?? 100)}`)
      : undefined,
  });
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  if (isTty) stderr.write('\n');
  if (values.json) {
    const report = { ...summary, isStdinResumeRefused: plan.manifest.wasStdinInterrupted };
    writeJson(io, isModsecurity ? { ...report, malformed: malformed.entries } : report);
  } else {
    for (const start of summary.inputs) {
      if (start.state === 'resumed')
        io.stderr.write(
          `keepwire ship: resumed ${start.path} at byte ${start.offset} (after line ${start.line}), where the interrupted run stopped\n`,
        );
      else if (start.state === 'changed')
        io.stderr.write(
          `keepwire ship: ${start.path} is not the file read before at this path (${start.reason}): read from the start\n`,
        );
    }
    const rate = summary.eventsRead / Math.max(0.001, summary.elapsedMs / 1000);
    io.stderr.write(
      `keepwire ship: ${summary.eventsRead - summary.eventsPending} of ${summary.eventsRead} events acknowledged ` +
        `(${formatBytes(summary.bytesRead)} in ${(summary.elapsedMs / 1000).toFixed(1)} s, ${Math.round(rate)} events/s): ` +
        `${describeDelivery(sink, summary)}${isModsecurity ? `, ${malformed.count} malformed` : ''}\n`,
    );
  }
  if (summary.deadLettered > 0) {
    io.stderr.write(
      `keepwire ship: the sink refused ${summary.deadLettered} event(s) for good; look in the dead-letter file at ${summary.deadLetterPath} ` +
        `(each line has the reason and the sink's answer), fix the events or the sink, and ship that file's events again\n`,
    );
  }
  if (isModsecurity && malformed.count > 0) {
    io.stderr.write(
      `keepwire ship: skipped ${malformed.count} malformed ModSecurity record(s) (SHIP_RECORD_MALFORMED, each listed above with its file and line); the other records were shipped\n`,
    );
  } else if (summary.eventsRejectedAtInput > 0) {
    io.stderr.write(
      `keepwire ship: skipped ${summary.eventsRejectedAtInput} input line(s) that were not JSON objects or were too long; fix them and ship them again\n`,
    );
  }
  const unfinished = summary.inputsUnfinished;
  if (summary.eventsPending > 0 || unfinished.length > 0) {
    const files = unfinished.filter((path) => path !== '-');
    io.stderr.write(
      `keepwire ship: interrupted with ${summary.eventsPending} events not yet acknowledged` +
        (files.length > 0
          ? ` and ${files.length} file(s) not read to their end (${files.join(', ')})`
          : '') +
        `; they are kept in ${dataDir}: run again with --data-dir ${dataDir} (the same files, or none) ` +
        'to send them and read the rest\n',
    );
    if (unfinished.includes('-'))
      io.stderr.write(
        'keepwire ship: standard input was not read to its end and cannot be resumed: give the rest of it again\n',
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

interface ShipValues extends SinkFlags, InputFlags {
  'data-dir'?: string;
  json?: boolean;
  'shape-only'?: boolean;
}
