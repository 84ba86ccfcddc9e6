import { z } from 'zod';

/** A sink's buffer: durable on disk (the default) or in memory. */
export const diskBufferSchema = z.strictObject({
  type: z.literal('disk'),
  /** Bound on the bytes of unacknowledged events (framed) on disk. */
  maxSizeBytes: z
    .number()
    .int()
    .min(4096)
    .default(256 * 1024 * 1024),
  /** `always` (fdatasync per append), `never`, or an interval in ms. */
  fsync: z.union([z.enum(['always', 'never']), z.number().int().positive()]).default(1000),
  whenFull: z.enum(['block', 'dropOldest', 'dropNewest']).default('block'),
  /** Retry-After given to sources when full under `block`. */
  retryAfterMs: z.number().int().positive().default(1000),
});

export const memoryBufferSchema = z.strictObject({
  type: z.literal('memory'),
  maxEvents: z.number().int().positive().default(100_000),
  whenFull: z.enum(['block', 'dropOldest', 'dropNewest']).default('block'),
  retryAfterMs: z.number().int().positive().default(1000),
});

export const bufferSchema = z
  .discriminatedUnion('type', [diskBufferSchema, memoryBufferSchema])
  .prefault({ type: 'disk' });

export type BufferConfig = z.output<typeof bufferSchema>;
