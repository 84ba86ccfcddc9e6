/**
 * The sink registry: every sink type, one entry each. A new sink is a folder
 * (config.ts with its schema, index.ts building its service, definition.ts
 * joining the two) plus its entry in SINKS. The configuration imports the
 * one union made here (`sinkSchema`); the ship plane builds services here.
 *
 * This module loads zod (every schema). `keepwire ship --to` builds its
 * sink without it, from the sink folders' index.ts (src/cli/ship-sink.ts).
 */
import { z } from 'zod';
import { bufferSchema } from '../buffer/buffer-schema.ts';
import { blackholeSink } from './blackhole/definition.ts';
import { sinkCommonShape } from './common.ts';
import type { SinkContext, SinkDefinition, TaggedSchema } from './definition.ts';
import { fileSink } from './file/definition.ts';
import { httpSink } from './http/definition.ts';
import { opensearchSink } from './opensearch/definition.ts';
import type { SinkService } from './service.ts';

const SINKS = [httpSink, fileSink, blackholeSink, opensearchSink] as const;

const bufferShape = { buffer: bufferSchema };

/** A sink's own options, the options every sink shares, and its buffer. */
function withCommon(schema: TaggedSchema): TaggedSchema {
  return schema.extend(sinkCommonShape).extend(bufferShape);
}

/** What withCommon makes of a sink's schema, as a type (TypeScript cannot follow `extend` on a generic). */
type WithCommon<D> = D extends { schema: z.ZodObject<infer Shape, infer Config> }
  ? z.ZodObject<
      z.util.Extend<z.util.Extend<Shape, typeof sinkCommonShape>, typeof bufferShape>,
      Config
    >
  : never;
/** The tuple of full schemas, one per entry of SINKS, as discriminatedUnion wants it. */
type SinkSchemas<T extends readonly unknown[]> = { -readonly [K in keyof T]: WithCommon<T[K]> };

/** One sink, tagged by `type`. */
export const sinkSchema = z.discriminatedUnion(
  'type',
  SINKS.map((sink) => withCommon(sink.schema)) as unknown as SinkSchemas<typeof SINKS>,
);

export type SinkConfig = z.output<typeof sinkSchema>;

/** The sink types, as configurations name them. */
export const SINK_TYPES: readonly SinkConfig['type'][] = SINKS.map((sink) => sink.type);

const BY_TYPE: ReadonlyMap<string, SinkDefinition> = new Map(
  SINKS.map((sink) => [sink.type, sink as unknown as SinkDefinition]),
);

/** Builds the service (encode + send one batch) of sink `name`. */
export function createSinkService(
  name: string,
  config: SinkConfig,
  context: Omit<SinkContext, 'name' | 'concurrency'>,
): SinkService {
  const definition = BY_TYPE.get(config.type)!;
  return definition.create(config, {
    ...context,
    name,
    concurrency: config.concurrency,
    logger: context.logger.child({ sink: name }),
  });
}
