import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { type PoolFactory, SinkPool } from '../../../net/index.ts';
import type { Logger, Registry } from '../../../telemetry/index.ts';
import type { SinkService } from '../service.ts';
import type { HttpSinkConfig } from './config.ts';
import { RequestBuilder } from './request-builder.ts';
import { HttpService } from './service.ts';

// The schema (config.ts) is not re-exported: it loads zod, which `keepwire ship --to` does without.
export type { HttpSinkConfig } from './config.ts';
export { HttpService } from './service.ts';

export interface HttpSinkDeps {
  readonly name: string;
  readonly concurrency: number;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly poolFactory?: PoolFactory;
}

export function createHttpSinkService(
  config: HttpSinkConfig,
  deps: HttpSinkDeps,
): HttpService & SinkService {
  const url = new URL(config.url);
  const pool = new SinkPool(
    {
      name: deps.name,
      origin: url.origin,
      connections: deps.concurrency,
      connectTimeoutMs: config.timeouts.connectTimeoutMs,
      headersTimeoutMs: config.timeouts.headersTimeoutMs,
      bodyTimeoutMs: config.timeouts.bodyTimeoutMs,
      idleTimeoutMs: config.pool.idleTimeoutMs,
      hintMarginMs: config.pool.hintMarginMs,
      maxUsesPerConnection: config.pool.maxUsesPerConnection,
      maxLifetimeMs: config.pool.maxLifetimeMs,
      keepAliveProbeMs: config.pool.keepAliveProbeMs,
      tls: url.protocol === 'https:' ? tlsOptions(config.tls) : undefined,
      registry: deps.registry,
    },
    deps.poolFactory,
  );
  return new HttpService(deps.name, pool, new RequestBuilder(config, deps.concurrency));
}

function tlsOptions(tls: HttpSinkConfig['tls']): ConnectionOptions {
  return {
    ca: tls.caFile === undefined ? undefined : readFileSync(tls.caFile),
    cert: tls.certFile === undefined ? undefined : readFileSync(tls.certFile),
    key: tls.keyFile === undefined ? undefined : readFileSync(tls.keyFile),
    servername: tls.serverName,
    rejectUnauthorized: tls.rejectUnauthorized,
  };
}
