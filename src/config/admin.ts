import { z } from 'zod';
import { maxConnectionsSchema } from './limits.ts';
import { listenSchema } from './listen.ts';

/** The admin listener: management API, /metrics, /healthz and, later, the dashboard. */
export const adminSchema = z
  .strictObject({
    listen: listenSchema.prefault('127.0.0.1:8680'),
    /** A fixed admin token; when absent one is generated into DATA_DIR/admin.token (0600). */
    token: z.string().min(16, 'an admin token needs at least 16 characters').optional(),
    bodyLimitBytes: z.number().int().positive().default(1_048_576),
    requestTimeoutMs: z.number().int().positive().default(30_000),
    keepAliveTimeoutMs: z.number().int().positive().default(65_000),
    maxConnections: maxConnectionsSchema,
    /** Answers to wrong admin tokens from one address are delayed up to this long. */
    authFailureMaxDelayMs: z.number().int().min(0).default(5_000),
  })
  .prefault({});

export type AdminConfig = z.output<typeof adminSchema>;
