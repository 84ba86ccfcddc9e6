import type { PoolFactory } from '../../../net/index.ts';
import type { Logger, Registry } from '../../../telemetry/index.ts';
import { createSinkPool } from '../pooled-connection.ts';
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
  const pool = createSinkPool(deps.name, new URL(config.url), config, deps);
  const builder = new RequestBuilder(config, deps.concurrency);
  return new HttpService(deps.name, pool, builder, config.maxRetryAfterMs);
}
