import { z } from 'zod';
import { UsageError } from '../errors.ts';
import { type SinkConfig, sinkSchema } from '../pipeline/sinks/registry.ts';
import { sourceSchema } from '../pipeline/sources/source-schema.ts';

export { type SinkConfig, sinkSchema };

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const nameSchema = z.string().regex(NAME, 'names are letters, digits, "_" and "-" (at most 64)');

/**
 * The embedded default: the http source on 127.0.0.1:8682 routed to a file
 * sink writing NDJSON under DATA_DIR/out/, through a disk buffer.
 */
const DEFAULT_PIPELINE = {
  sources: { events: { type: 'http' as const } },
  sinks: { out: { type: 'file' as const } },
  routes: { events: ['out'] },
};

/**
 * The ship plane: `sources` and `sinks` by name, and `routes` from each
 * source to the sinks it feeds (every source needs a route; names must
 * exist). Without a `pipeline` section the embedded default runs.
 */
export const pipelineSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** At shutdown, how long sinks may keep delivering what is buffered before they stop. */
    drainTimeoutMs: z.number().int().min(0).default(5_000),
    sources: z.record(nameSchema, sourceSchema).default({}),
    sinks: z.record(nameSchema, sinkSchema).default({}),
    routes: z
      .record(nameSchema, z.array(nameSchema).min(1, 'route a source to at least one sink'))
      .default({}),
  })
  .superRefine((pipeline, ctx) => {
    for (const [source, sinks] of Object.entries(pipeline.routes)) {
      if (!(source in pipeline.sources)) {
        ctx.addIssue({
          code: 'custom',
          path: ['routes', source],
          message: `no source named "${source}"; sources are: ${Object.keys(pipeline.sources).join(', ') || 'none'}`,
        });
      }
      sinks.forEach((sink, index) => {
        if (!(sink in pipeline.sinks)) {
          ctx.addIssue({
            code: 'custom',
            path: ['routes', source, index],
            message: `no sink named "${sink}"; sinks are: ${Object.keys(pipeline.sinks).join(', ') || 'none'}`,
          });
        }
      });
    }
    for (const source of Object.keys(pipeline.sources)) {
      if (!(source in pipeline.routes)) {
        ctx.addIssue({
          code: 'custom',
          path: ['routes', source],
          message: `source "${source}" has no route; add routes.${source}: [SINK, ...]`,
        });
      }
    }
  })
  .prefault(DEFAULT_PIPELINE);

export type PipelineConfig = z.output<typeof pipelineSchema>;

/**
 * `keepwire serve --events HOST:PORT`: the same configuration with the
 * listen address of the http source named `events` replaced. Applied after
 * validation, so the embedded default pipeline still applies.
 */
export function withEventsListen<T extends { readonly pipeline: PipelineConfig }>(
  config: T,
  listen: { host: string; port: number },
): T {
  if (!config.pipeline.enabled) return config;
  const source = config.pipeline.sources.events;
  if (source?.type !== 'http') {
    throw new UsageError(
      '--events sets the listen address of the http source named "events", and there is none',
    );
  }
  const sources = { ...config.pipeline.sources, events: Object.freeze({ ...source, listen }) };
  return Object.freeze({
    ...config,
    pipeline: Object.freeze({ ...config.pipeline, sources: Object.freeze(sources) }),
  });
}
