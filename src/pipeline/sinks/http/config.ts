import { z } from 'zod';

const authSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('basic'), user: z.string().min(1), password: z.string() }),
  z
    .strictObject({
      type: z.literal('bearer'),
      /** The token itself, or... */
      token: z.string().min(1).optional(),
      /** ...a file holding it (re-read when its modification time changes, so it can be rotated). */
      tokenFile: z.string().min(1).optional(),
    })
    .refine((auth) => (auth.token === undefined) !== (auth.tokenFile === undefined), {
      message: 'bearer auth needs exactly one of token or tokenFile',
    }),
]);

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
  auth: authSchema.optional(),
  tls: z
    .strictObject({
      caFile: z.string().optional(),
      certFile: z.string().optional(),
      keyFile: z.string().optional(),
      /** SNI and certificate name when it differs from the URL's host. */
      serverName: z.string().optional(),
      rejectUnauthorized: z.boolean().default(true),
    })
    .prefault({}),
  timeouts: z
    .strictObject({
      connectTimeoutMs: z.number().int().positive().default(5_000),
      /** From the request's end to the response headers. */
      headersTimeoutMs: z.number().int().positive().default(30_000),
      /** Longest gap between two chunks of the response body. */
      bodyTimeoutMs: z.number().int().positive().default(30_000),
    })
    .prefault({}),
  pool: z
    .strictObject({
      /** Idle timeout when the server sends no `Keep-Alive: timeout=`; keep it below the server's. */
      idleTimeoutMs: z.number().int().positive().default(4_000),
      /** With a `Keep-Alive: timeout=N` hint, the idle timeout is N minus this margin. */
      hintMarginMs: z.number().int().min(0).default(500),
      /** Requests per connection before it is replaced (0: unlimited). */
      maxUsesPerConnection: z.number().int().min(0).default(0),
      /** Age after which a connection is replaced (0: unlimited). */
      maxLifetimeMs: z.number().int().min(0).default(300_000),
      /** Idle time before the first TCP keepalive probe. */
      keepAliveProbeMs: z.number().int().positive().default(30_000),
    })
    .prefault({}),
});

export type HttpSinkConfig = z.output<typeof httpSinkSchema>;
