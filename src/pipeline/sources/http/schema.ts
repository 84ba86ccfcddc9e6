import { z } from 'zod';
import { maxConnectionsSchema } from '../../../config/limits.ts';
import { listenSchema } from '../../../config/listen.ts';

/**
 * The http source. Event intake could share the agents listener (8681);
 * it has its own listener, so intake can run (and be sized, limited and
 * stopped) without the command plane and its agent tokens.
 */
export const httpSourceSchema = z.strictObject({
  type: z.literal('http'),
  listen: listenSchema.prefault('127.0.0.1:8682'),
  /** Largest request body, after gzip decompression. */
  bodyLimitBytes: z
    .number()
    .int()
    .positive()
    .default(10 * 1024 * 1024),
  /** Largest single NDJSON line (event). */
  maxLineBytes: z
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  requestTimeoutMs: z.number().int().positive().default(30_000),
  keepAliveTimeoutMs: z.number().int().positive().default(65_000),
  maxConnections: maxConnectionsSchema,
  /** SHA-256 (hex) of the bearer token clients must send; no token needed when absent. */
  tokenHash: z
    .string()
    .regex(
      /^[0-9a-f]{64}$/,
      'expected the lowercase hex SHA-256 of the token (printf %s TOKEN | sha256sum)',
    )
    .optional(),
});

export type HttpSourceConfig = z.output<typeof httpSourceSchema>;
