import { z } from 'zod';
import { DEFAULT_MAX_RETRY_AFTER_MS } from './retry-after.ts';

/**
 * The connection settings the HTTP-speaking sinks (http, opensearch) share:
 * authentication, TLS, timeouts and the pool's hygiene rules. Each sink's
 * schema composes them; their defaults live here only.
 */

/** A secret given inline or as a file re-read when it changes (rotation without a restart). */
function inlineOrFile<K extends string>(key: K, message: string) {
  const fileKey = `${key}File` as const;
  return {
    shape: {
      [key]: z.string().min(1).optional(),
      [fileKey]: z.string().min(1).optional(),
    } as { [P in K | `${K}File`]: z.ZodOptional<z.ZodString> },
    check: (auth: Record<string, unknown>) =>
      (auth[key] === undefined) !== (auth[fileKey] === undefined),
    message,
  };
}

const password = inlineOrFile(
  'password',
  'basic auth needs exactly one of password or passwordFile',
);
const token = inlineOrFile('token', 'bearer auth needs exactly one of token or tokenFile');
const key = inlineOrFile('key', 'apiKey auth needs exactly one of key or keyFile');

export const authSchema = z.discriminatedUnion('type', [
  z
    .strictObject({ type: z.literal('basic'), user: z.string().min(1), ...password.shape })
    .refine(password.check, { message: password.message }),
  z
    .strictObject({ type: z.literal('bearer'), ...token.shape })
    .refine(token.check, { message: token.message }),
  /** Elasticsearch / OpenSearch API key: `Authorization: ApiKey <key>`, the key as the cluster gives it (`encoded`). */
  z
    .strictObject({ type: z.literal('apiKey'), ...key.shape })
    .refine(key.check, { message: key.message }),
]);

export const tlsSchema = z
  .strictObject({
    caFile: z.string().optional(),
    certFile: z.string().optional(),
    keyFile: z.string().optional(),
    /** SNI and certificate name when it differs from the URL's host. */
    serverName: z.string().optional(),
    rejectUnauthorized: z.boolean().default(true),
  })
  .refine((tls) => (tls.certFile === undefined) === (tls.keyFile === undefined), {
    message: 'a client certificate needs both certFile and keyFile',
  })
  .prefault({});

export const timeoutsSchema = z
  .strictObject({
    connectTimeoutMs: z.number().int().positive().default(5_000),
    /** From the request's end to the response headers. */
    headersTimeoutMs: z.number().int().positive().default(30_000),
    /** Longest gap between two chunks of the response body. */
    bodyTimeoutMs: z.number().int().positive().default(30_000),
  })
  .prefault({});

export const poolSchema = z
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
  .prefault({});

export type AuthConfig = z.output<typeof authSchema>;
export type TlsConfig = z.output<typeof tlsSchema>;
export type TimeoutsConfig = z.output<typeof timeoutsSchema>;
export type PoolConfig = z.output<typeof poolSchema>;

/** The most a collector's `Retry-After` (on 408, 429, 503) is honoured for. */
export const maxRetryAfterMsSchema = z.number().int().min(0).default(DEFAULT_MAX_RETRY_AFTER_MS);
