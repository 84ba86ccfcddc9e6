import type { PoolFactory } from '../../../net/index.ts';
import type { Logger, Registry } from '../../../telemetry/index.ts';
import { BulkRequestBuilder } from './bulk-request-builder.ts';
import type { OpensearchSinkConfig } from './config.ts';
import { Endpoint } from './endpoint.ts';
import { EndpointSet } from './endpoint-set.ts';
import { OpensearchService } from './opensearch-service.ts';

// The schema (config.ts) is not re-exported: it loads zod, which `keepwire ship --to` does without.
export type { ClusterInfo } from './cluster-info.ts';
export type { OpensearchSinkConfig } from './config.ts';
export type { Endpoint } from './endpoint.ts';
export { OpensearchService } from './opensearch-service.ts';

export interface OpensearchSinkDeps {
  readonly name: string;
  readonly concurrency: number;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly poolFactory?: PoolFactory;
  /** Time of ingest, for documents without a usable timestamp; tests may pin it. */
  readonly now?: () => number;
}

/** Builds the service and starts each endpoint's `GET /` check in the background. */
export function createOpensearchSinkService(
  config: OpensearchSinkConfig,
  deps: OpensearchSinkDeps,
): OpensearchService {
  const builder = new BulkRequestBuilder(config, deps.concurrency, deps.now);
  const endpoints = new EndpointSet(
    config.endpoints.map((url) => new Endpoint(url, config, deps)),
    {
      sink: deps.name,
      logger: deps.logger,
      infoHeaders: () => builder.infoHeaders(),
      probeTimeoutMs: config.timeouts.connectTimeoutMs + config.timeouts.headersTimeoutMs,
    },
  );
  const service = new OpensearchService(
    { name: deps.name, action: config.action, maxRetryAfterMs: config.maxRetryAfterMs },
    endpoints,
    builder,
  );
  endpoints.start();
  return service;
}
