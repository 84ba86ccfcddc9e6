/**
 * What the configuration schema makes of `keepwire ship --to`'s sinks,
 * written out so that `--to` does not load zod (95 modules and ~70 ms of a
 * ship's start-up, docs/benchmarks.md). ship-sink.test.ts checks that each
 * stays equal to the schema's output for the same input.
 */
import type { SinkConfig } from '../config/pipeline.ts';
import { DEFAULT_MAX_RETRY_AFTER_MS } from '../pipeline/sinks/retry-after.ts';

type OpensearchSink = Extract<SinkConfig, { type: 'opensearch' }>;
type HttpSink = Extract<SinkConfig, { type: 'http' }>;

/** Options every sink shares (pipeline/sinks/common.ts) and the disk buffer. */
const COMMON = {
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
} as const;

/** The connection settings of the HTTP-speaking sinks (pipeline/sinks/connection-schema.ts). */
const CONNECTION = {
  timeouts: { connectTimeoutMs: 5_000, headersTimeoutMs: 30_000, bodyTimeoutMs: 30_000 },
  pool: {
    idleTimeoutMs: 4_000,
    hintMarginMs: 500,
    maxUsesPerConnection: 0,
    maxLifetimeMs: 300_000,
    keepAliveProbeMs: 30_000,
  },
} as const;

/** The parts the flags may set; absent ones keep the schema's defaults. */
export interface SinkFlagSettings {
  readonly auth?: HttpSink['auth'];
  readonly caFile?: string;
  readonly isGzip?: boolean;
}

/** What sinkSchema makes of `{ type: 'http', url }` plus the flags' settings. */
export function httpSinkDefaults(url: string, settings: SinkFlagSettings = {}): HttpSink {
  return {
    type: 'http',
    url,
    encoding: 'ndjson',
    compression: settings.isGzip ? 'gzip' : 'none',
    headers: {},
    maxRetryAfterMs: DEFAULT_MAX_RETRY_AFTER_MS,
    ...(settings.auth && { auth: settings.auth }),
    tls: tls(settings),
    ...structuredClone(CONNECTION),
    ...structuredClone(COMMON),
  };
}

/** What sinkSchema makes of `{ type: 'opensearch', endpoints, index?, action? }` plus the flags' settings. */
export function opensearchSinkDefaults(
  endpoints: string[],
  settings: SinkFlagSettings & { index?: string; action?: 'create' | 'index' } = {},
): OpensearchSink {
  return {
    type: 'opensearch',
    endpoints,
    index: settings.index ?? 'keepwire-%Y.%m.%d',
    action: settings.action ?? 'create',
    idField: 'event.id',
    timestampField: '@timestamp',
    compression: settings.isGzip ? 'gzip' : 'none',
    maxRetryAfterMs: DEFAULT_MAX_RETRY_AFTER_MS,
    headers: {},
    ...(settings.auth && { auth: settings.auth }),
    tls: tls(settings),
    ...structuredClone(CONNECTION),
    health: { failuresToSetAside: 3, initialProbeBackoffMs: 1_000, maxProbeBackoffMs: 60_000 },
    ...structuredClone(COMMON),
  };
}

function tls(settings: SinkFlagSettings): HttpSink['tls'] {
  return settings.caFile === undefined
    ? { rejectUnauthorized: true }
    : { caFile: settings.caFile, rejectUnauthorized: true };
}
