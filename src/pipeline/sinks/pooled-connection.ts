/**
 * A SinkPool for one origin of an HTTP-speaking sink, from the connection
 * settings the sinks share (connection-schema.ts): TLS files read once at
 * start, timeouts and hygiene rules passed through as they are.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { type PoolFactory, SinkPool } from '../../net/index.ts';
import type { Logger, Registry } from '../../telemetry/index.ts';
import type { PoolConfig, TimeoutsConfig, TlsConfig } from './connection-schema.ts';

export interface PooledConnectionSettings {
  readonly tls: TlsConfig;
  readonly timeouts: TimeoutsConfig;
  readonly pool: PoolConfig;
}

export function createSinkPool(
  name: string,
  url: URL,
  settings: PooledConnectionSettings,
  deps: {
    readonly concurrency: number;
    readonly registry: Registry;
    readonly poolFactory?: PoolFactory;
    readonly logger?: Logger;
  },
): SinkPool {
  const { timeouts, pool } = settings;
  return new SinkPool(
    {
      name,
      origin: url.origin,
      connections: deps.concurrency,
      connectTimeoutMs: timeouts.connectTimeoutMs,
      headersTimeoutMs: timeouts.headersTimeoutMs,
      bodyTimeoutMs: timeouts.bodyTimeoutMs,
      idleTimeoutMs: pool.idleTimeoutMs,
      hintMarginMs: pool.hintMarginMs,
      maxUsesPerConnection: pool.maxUsesPerConnection,
      maxLifetimeMs: pool.maxLifetimeMs,
      keepAliveProbeMs: pool.keepAliveProbeMs,
      tls: url.protocol === 'https:' ? tlsOptions(settings.tls) : undefined,
      registry: deps.registry,
      logger: deps.logger,
    },
    deps.poolFactory,
  );
}

function tlsOptions(tls: TlsConfig): ConnectionOptions {
  return {
    ca: tls.caFile === undefined ? undefined : readFileSync(tls.caFile),
    cert: tls.certFile === undefined ? undefined : readFileSync(tls.certFile),
    key: tls.keyFile === undefined ? undefined : readFileSync(tls.keyFile),
    servername: tls.serverName,
    rejectUnauthorized: tls.rejectUnauthorized,
  };
}
