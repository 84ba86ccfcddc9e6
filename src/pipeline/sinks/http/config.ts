import { z } from 'zod';
import {
  authSchema,
  maxRetryAfterMsSchema,
  poolSchema,
  timeoutsSchema,
  tlsSchema,
} from '../connection-schema.ts';

/**
 * An HTTP collector: one POST per batch, NDJSON or a JSON array, optionally
 * compressed, over a pooled keep-alive connection per concurrent batch.
 * Batching, buffer, retry and concurrency are the common sink options.
 */
export const httpSinkSchema = z.strictObject({
  type: z.literal('http'),
  url: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }),
  encoding: z.enum(['ndjson', 'json']).default('ndjson'),
  compression: z.enum(['none', 'gzip', 'zstd']).default('none'),
  /** Extra request headers, sent as given. */
  headers: z.record(z.string(), z.string()).default({}),
  /** The most a `Retry-After` of a 408, 429 or 5xx is honoured for. */
  maxRetryAfterMs: maxRetryAfterMsSchema,
  auth: authSchema.optional(),
  tls: tlsSchema,
  timeouts: timeoutsSchema,
  pool: poolSchema,
});

export type HttpSinkConfig = z.output<typeof httpSinkSchema>;
