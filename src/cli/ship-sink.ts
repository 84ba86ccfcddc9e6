/**
 * The sink of a `keepwire ship` run: `--to URL` (an http sink with every
 * default), or one sink of `--config FILE`; then the --concurrency and
 * --batch-max-* flags over it.
 *
 * `--to` does not load the configuration schema: zod is 95 modules and
 * ~70 ms of a ship's start-up (docs/benchmarks.md), so the defaults that
 * sinkSchema gives `{ type: 'http', url }` are written out here, and
 * ship-sink.test.ts checks they stay equal to the schema's, flag ranges
 * included.
 */
import type { SinkConfig } from '../config/pipeline.ts';
import { UsageError } from '../errors.ts';
import type { ShipOptions } from '../pipeline/ship-once.ts';
import { type CliIo, parseInteger } from './command.ts';

export interface SinkFlags {
  to?: string;
  config?: string;
  sink?: string;
  concurrency?: string;
  'batch-max-events'?: string;
  'batch-max-bytes'?: string;
}

/** The schema's bounds for the options the flags override (pipeline/sinks/common.ts). */
export const FLAG_RANGES = {
  concurrency: { min: 1, max: 256 },
  'batch-max-events': { min: 1 },
  'batch-max-bytes': { min: 1024 },
} as const;

export async function resolveSink(flags: SinkFlags, io: CliIo): Promise<SinkConfig> {
  if ((flags.to === undefined) === (flags.config === undefined)) {
    throw new UsageError(
      'give either --to URL or --config FILE\nRun "keepwire ship --help" for usage.',
    );
  }
  const concurrency = parseInteger(flags.concurrency, 'concurrency', FLAG_RANGES.concurrency);
  const maxEvents = parseInteger(
    flags['batch-max-events'],
    'batch-max-events',
    FLAG_RANGES['batch-max-events'],
  );
  const maxBytes = parseInteger(
    flags['batch-max-bytes'],
    'batch-max-bytes',
    FLAG_RANGES['batch-max-bytes'],
  );
  const sink = flags.to !== undefined ? httpSinkTo(flags.to) : await configuredSink(flags, io);
  return {
    ...sink,
    concurrency: concurrency ?? sink.concurrency,
    batch: {
      ...sink.batch,
      maxEvents: maxEvents ?? sink.batch.maxEvents,
      maxBytes: maxBytes ?? sink.batch.maxBytes,
    },
  };
}

/** What sinkSchema makes of `{ type: 'http', url }`. */
export function httpSinkTo(url: string): SinkConfig {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--to takes a URL such as http://127.0.0.1:9880/ingest, got "${url}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new UsageError(`--to takes an http:// or https:// URL, got "${url}"`);
  return {
    type: 'http',
    url,
    encoding: 'ndjson',
    compression: 'none',
    headers: {},
    tls: { rejectUnauthorized: true },
    timeouts: { connectTimeoutMs: 5_000, headersTimeoutMs: 30_000, bodyTimeoutMs: 30_000 },
    pool: {
      idleTimeoutMs: 4_000,
      hintMarginMs: 500,
      maxUsesPerConnection: 0,
      maxLifetimeMs: 300_000,
      keepAliveProbeMs: 30_000,
    },
    concurrency: 4,
    batch: { maxEvents: 1_000, maxBytes: 4 * 1024 * 1024, lingerMs: 100 },
    retry: { initialBackoffMs: 100, maxBackoffMs: 30_000 },
    buffer: {
      type: 'disk',
      maxSizeBytes: 256 * 1024 * 1024,
      fsync: 1000,
      whenFull: 'block',
      retryAfterMs: 1000,
    },
  };
}

async function configuredSink(flags: SinkFlags, io: CliIo): Promise<SinkConfig> {
  // Only here: the configuration schema and the YAML parser.
  const { loadConfig } = await import('../config/load.ts');
  const sinks = loadConfig({ file: flags.config, env: io.env }).pipeline.sinks;
  const names = Object.keys(sinks);
  const name = flags.sink ?? (names.length === 1 ? names[0] : undefined);
  if (name === undefined || !(name in sinks)) {
    throw new UsageError(
      `choose a sink with --sink NAME; ${flags.config} has: ${names.join(', ') || 'none'}`,
    );
  }
  return structuredClone(sinks[name]!);
}

/**
 * How `keepwire ship` builds its sink's service: an http sink straight from
 * its folder (no zod), any other through the sink registry (reachable only
 * with --config, which has loaded the schema already).
 */
export async function shipServiceFactory(sink: SinkConfig): Promise<ShipOptions['createService']> {
  if (sink.type === 'http') {
    const { createHttpSinkService } = await import('../pipeline/sinks/http/index.ts');
    return (name, config, context) =>
      createHttpSinkService(config as typeof sink, {
        ...context,
        name,
        concurrency: config.concurrency,
        logger: context.logger.child({ sink: name }),
      });
  }
  return (await import('../pipeline/sinks/registry.ts')).createSinkService;
}
