/**
 * What a sink folder gives the registry (registry.ts): its configuration
 * schema, tagged by a literal `type`, and how to build its service. The
 * options every sink shares (common.ts) and the buffer are added by the
 * registry, so a sink's schema holds only its own options.
 */
import type { z } from 'zod';
import type { Logger, Registry } from '../../telemetry/index.ts';
import type { SinkService } from './service.ts';

/** What building a sink's service may use. */
export interface SinkContext {
  /** The sink's name: the `sink` label of its metrics. */
  readonly name: string;
  /** Batches in flight at once (the common option); an HTTP sink's pool size. */
  readonly concurrency: number;
  readonly dataDir: string;
  readonly registry: Registry;
  /** Already a child logger with the sink's name. */
  readonly logger: Logger;
}

export type TaggedSchema = z.ZodObject<{ type: z.ZodLiteral<string> }>;

export interface SinkDefinition<S extends TaggedSchema = TaggedSchema> {
  readonly type: z.output<S>['type'];
  readonly schema: S;
  create(config: z.output<S>, context: SinkContext): SinkService;
}

export function defineSink<S extends TaggedSchema>(
  schema: S,
  create: (config: z.output<S>, context: SinkContext) => SinkService,
): SinkDefinition<S> {
  return { type: schema.shape.type.value, schema, create };
}
