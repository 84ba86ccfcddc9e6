import { z } from 'zod';

/**
 * Options every sink shares, added to each sink's own schema with
 * `.extend(sinkCommonShape)`: how many batches may be in flight, how a
 * batch is cut from the buffer, and how retryable failures back off.
 */
export const sinkCommonShape = {
  /** Batches in flight at once; also the number of pooled connections an HTTP sink keeps. */
  concurrency: z.number().int().min(1).max(256).default(4),
  batch: z
    .strictObject({
      maxEvents: z.number().int().min(1).default(1_000),
      /** A hard cap on a request's uncompressed body, so collectors never answer 413 (a single larger event goes alone). */
      maxBytes: z
        .number()
        .int()
        .min(1024)
        .default(4 * 1024 * 1024),
      /** Once one event is buffered, how long to wait for more before sending. */
      lingerMs: z.number().int().min(0).default(100),
    })
    .prefault({}),
  retry: z
    .strictObject({
      /** First backoff; each retry doubles the ceiling, the wait is uniform in [0, ceiling] (full jitter). */
      initialBackoffMs: z.number().int().min(1).default(100),
      maxBackoffMs: z.number().int().min(1).default(30_000),
    })
    .prefault({}),
};

export type SinkBatchOptions = z.output<typeof sinkCommonShape.batch>;
export type SinkRetryOptions = z.output<typeof sinkCommonShape.retry>;
