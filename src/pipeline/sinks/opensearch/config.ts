import { z } from 'zod';
import {
  authSchema,
  maxRetryAfterMsSchema,
  poolSchema,
  timeoutsSchema,
  tlsSchema,
} from '../connection-schema.ts';
import { checkIndexTemplate } from './index-template.ts';

/**
 * OpenSearch, Elasticsearch 7 and 8, and the Wazuh indexer through `_bulk`:
 * one request per batch to one of the cluster's `endpoints`, documents
 * created (or indexed) with a deterministic `_id` in an index named from
 * their own date, the answer handled item by item. The options every sink
 * shares (concurrency, batch, retry, buffer) are added by the registry.
 */
export const opensearchSinkSchema = z.strictObject({
  type: z.literal('opensearch'),
  /**
   * The nodes to send to (or one load balancer), each `http(s)://host:port`
   * with an optional path prefix; requests go to the healthy ones.
   */
  endpoints: z
    .array(
      z
        .url({ protocol: /^https?$/, error: 'an http:// or https:// URL' })
        .refine((url) => !/^https?:\/\/[^/]*@/.test(url), {
          message: 'put credentials in auth (a password or key file), not in the URL',
        })
        .refine((url) => !/[?#]/.test(url), { message: 'an endpoint has no query or fragment' }),
    )
    .min(1, 'give at least one endpoint')
    .max(64)
    .refine((urls) => new Set(urls.map((url) => new URL(url).href)).size === urls.length, {
      message: 'each endpoint once',
    }),
  /** The index: `%Y`, `%m`, `%d`, `%H` from the document's timestamp (UTC), `%%` for "%". */
  index: z
    .string()
    .superRefine((template, ctx) => {
      const problem = checkIndexTemplate(template);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    })
    .default('keepwire-%Y.%m.%d'),
  /** `create` never overwrites (a resend answers 409: already present); `index` replaces. */
  action: z.enum(['create', 'index']).default('create'),
  /** Dotted path of the field the `_id` comes from; without it, the record's SHA-256. */
  idField: z.string().min(1).default('event.id'),
  /** Dotted path of the field the index date comes from; without it, the time of ingest. */
  timestampField: z.string().min(1).default('@timestamp'),
  /** An ingest pipeline for every document (`?pipeline=`). */
  pipeline: z.string().min(1).optional(),
  compression: z.enum(['none', 'gzip']).default('none'),
  /** The most a `Retry-After` of a 429 or 503 is honoured for. */
  maxRetryAfterMs: maxRetryAfterMsSchema,
  /** Extra request headers, sent as given. */
  headers: z.record(z.string(), z.string()).default({}),
  auth: authSchema.optional(),
  tls: tlsSchema,
  timeouts: timeoutsSchema,
  pool: poolSchema,
  health: z
    .strictObject({
      /** Failures in a row (connection errors, timeouts, 5xx answers) before an endpoint is set aside. */
      failuresToSetAside: z.number().int().min(1).default(3),
      /** First wait before a set-aside endpoint is probed (`GET /`); doubles per failed probe. */
      initialProbeBackoffMs: z.number().int().min(1).default(1_000),
      maxProbeBackoffMs: z.number().int().min(1).default(60_000),
    })
    .prefault({}),
});

export type OpensearchSinkConfig = z.output<typeof opensearchSinkSchema>;
