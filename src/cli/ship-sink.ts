/**
 * The sink of a `keepwire ship` run: `--to URL[,URL...]` (an http sink, or
 * with `--sink opensearch` an opensearch sink, with every default and the
 * flags' settings), or one sink of `--config FILE`; then the --concurrency
 * and --batch-max-* flags over it; and how its service is built.
 *
 * `--to` does not load the configuration schema (zod): its defaults are
 * written out in ship-sink-defaults.ts, the flags are checked here, and the
 * service comes straight from the sink's folder.
 */
import type { SinkConfig } from '../config/pipeline.ts';
import { UsageError } from '../errors.ts';
import type { ShipOptions, ShipSummary } from '../pipeline/ship-once.ts';
import { checkIndexTemplate } from '../pipeline/sinks/opensearch/index-template.ts';
import { type CliIo, parseInteger } from './command.ts';
import {
  httpSinkDefaults,
  opensearchSinkDefaults,
  type SinkFlagSettings,
} from './ship-sink-defaults.ts';

export interface SinkFlags {
  to?: string;
  config?: string;
  sink?: string;
  index?: string;
  action?: string;
  user?: string;
  'password-file'?: string;
  'token-file'?: string;
  'api-key-file'?: string;
  'ca-file'?: string;
  gzip?: boolean;
  concurrency?: string;
  'batch-max-events'?: string;
  'batch-max-bytes'?: string;
}

/** The sink flags, for `parseOptions` of the ship command. */
export const SINK_OPTIONS = {
  to: { type: 'string' },
  config: { type: 'string' },
  sink: { type: 'string' },
  index: { type: 'string' },
  action: { type: 'string' },
  user: { type: 'string' },
  'password-file': { type: 'string' },
  'token-file': { type: 'string' },
  'api-key-file': { type: 'string' },
  'ca-file': { type: 'string' },
  gzip: { type: 'boolean' },
  concurrency: { type: 'string' },
  'batch-max-events': { type: 'string' },
  'batch-max-bytes': { type: 'string' },
} as const;

/** The sink part of `keepwire ship --help`. */
export const SINK_HELP = `Where to (the sink):
  --to URL[,URL...]        the collector's URL; with --sink opensearch, the
                           nodes of the cluster (requests go to the healthy
                           ones, one down never stops the run)
  --sink http|opensearch   with --to: an HTTP collector (one POST of NDJSON
                           per batch, the default) or OpenSearch /
                           Elasticsearch / the Wazuh indexer (_bulk)
  --index TEMPLATE         opensearch: the index, %Y %m %d %H from each
                           event's @timestamp in UTC (default keepwire-%Y.%m.%d)
  --action create|index    opensearch: create (default: a document already
                           there is counted "already present", never doubled)
                           or index (replace)
  --user USER --password-file FILE   basic auth (the file holds the password)
  --token-file FILE        bearer auth; --api-key-file FILE: Authorization: ApiKey
  --ca-file FILE           trust this CA (PEM) for https:// (verification is on)
  --gzip                   compress request bodies
  --config FILE            take the sink from a keepwire configuration file
                           (pipeline.sinks); then --sink NAME chooses one
  --concurrency N          batches in flight at once (default: the sink's, 4);
                           also the most connections per endpoint
  --batch-max-events N     events per batch
  --batch-max-bytes N      bytes per batch (a hard cap on a request's events)`;

/** The schema's bounds for the options the flags override (pipeline/sinks/common.ts). */
export const FLAG_RANGES = {
  concurrency: { min: 1, max: 256 },
  'batch-max-events': { min: 1 },
  'batch-max-bytes': { min: 1024 },
} as const;

const TO_ONLY = [
  'index',
  'action',
  'user',
  'password-file',
  'token-file',
  'api-key-file',
  'ca-file',
  'gzip',
] as const;

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
  const sink = flags.to !== undefined ? sinkTo(flags.to, flags) : await configuredSink(flags, io);
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

/** The sink of `--to`, from the flags, checked as the schema would. */
export function sinkTo(to: string, flags: SinkFlags): SinkConfig {
  const type = flags.sink ?? 'http';
  if (type !== 'http' && type !== 'opensearch')
    throw new UsageError(`--sink with --to takes http or opensearch, got "${type}"`);
  const urls = to.split(',').map((url) => checkUrl(url.trim()));
  const settings = flagSettings(flags);
  if (type === 'http') {
    if (urls.length > 1)
      throw new UsageError('the http sink takes one --to URL; several are for --sink opensearch');
    for (const name of ['index', 'action'] as const)
      if (flags[name] !== undefined) throw new UsageError(`--${name} goes with --sink opensearch`);
    return httpSinkDefaults(urls[0]!, settings);
  }
  if (new Set(urls.map((url) => new URL(url).href)).size !== urls.length)
    throw new UsageError('--to names an endpoint twice');
  for (const url of urls) {
    if (/[?#]/.test(url))
      throw new UsageError(`an opensearch endpoint has no query or fragment, got "${url}"`);
  }
  const index = flags.index;
  const problem = index === undefined ? undefined : checkIndexTemplate(index);
  if (problem !== undefined) throw new UsageError(`--index "${index}": ${problem}`);
  const action = flags.action;
  if (action !== undefined && action !== 'create' && action !== 'index')
    throw new UsageError(`--action takes create or index, got "${action}"`);
  return opensearchSinkDefaults(urls, { ...settings, index, action });
}

function checkUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--to takes a URL such as http://127.0.0.1:9880/ingest, got "${url}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new UsageError(`--to takes an http:// or https:// URL, got "${url}"`);
  if (parsed.username !== '' || parsed.password !== '')
    throw new UsageError('put credentials in --user and --password-file, not in the URL');
  return url;
}

function flagSettings(flags: SinkFlags): SinkFlagSettings {
  const kinds = [flags['password-file'], flags['token-file'], flags['api-key-file']].filter(
    (file) => file !== undefined,
  );
  if (kinds.length > 1)
    throw new UsageError('give one of --password-file, --token-file and --api-key-file');
  if ((flags.user === undefined) !== (flags['password-file'] === undefined))
    throw new UsageError('basic auth takes both --user USER and --password-file FILE');
  let auth: SinkFlagSettings['auth'];
  if (flags.user !== undefined)
    auth = { type: 'basic', user: flags.user, passwordFile: flags['password-file']! };
  else if (flags['token-file'] !== undefined)
    auth = { type: 'bearer', tokenFile: flags['token-file'] };
  else if (flags['api-key-file'] !== undefined)
    auth = { type: 'apiKey', keyFile: flags['api-key-file'] };
  return { auth, caFile: flags['ca-file'], isGzip: flags.gzip };
}

async function configuredSink(flags: SinkFlags, io: CliIo): Promise<SinkConfig> {
  for (const name of TO_ONLY) {
    if (flags[name] !== undefined)
      throw new UsageError(`--${name} goes with --to; with --config, set it in the file's sink`);
  }
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
 * How `keepwire ship` builds its sink's service: http and opensearch sinks
 * straight from their folders (no zod), any other through the sink
 * registry (reachable only with --config, which has loaded the schema).
 */
export async function shipServiceFactory(sink: SinkConfig): Promise<ShipOptions['createService']> {
  const deps = (
    name: string,
    config: SinkConfig,
    context: Parameters<ShipOptions['createService']>[2],
  ) => ({
    ...context,
    name,
    concurrency: config.concurrency,
    logger: context.logger.child({ sink: name }),
  });
  if (sink.type === 'http') {
    const { createHttpSinkService } = await import('../pipeline/sinks/http/index.ts');
    return (name, config, context) =>
      createHttpSinkService(config as typeof sink, deps(name, config, context));
  }
  if (sink.type === 'opensearch') {
    const { createOpensearchSinkService } = await import('../pipeline/sinks/opensearch/index.ts');
    return (name, config, context) =>
      createOpensearchSinkService(config as typeof sink, deps(name, config, context));
  }
  return (await import('../pipeline/sinks/registry.ts')).createSinkService;
}

/** The summary line of a run: what the sink did with the events. */
export function describeDelivery(sink: SinkConfig, summary: ShipSummary): string {
  const delivered = summary.eventsDelivered - summary.eventsAlreadyPresent;
  const what =
    sink.type === 'opensearch'
      ? `${delivered} indexed, ${summary.eventsAlreadyPresent} already present`
      : `${summary.eventsDelivered} delivered`;
  return `${what}, ${summary.deadLettered} dead-lettered`;
}
