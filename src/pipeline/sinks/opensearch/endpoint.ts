/**
 * One node of the cluster the sink sends to: its own SinkPool (so every
 * connection rule of the HTTP sink holds per endpoint, with at most the
 * sink's concurrency in connections), its paths, its health and metrics.
 */
import type { PoolFactory, SinkPool } from '../../../net/index.ts';
import type { Logger, Registry } from '../../../telemetry/index.ts';
import { createSinkPool } from '../pooled-connection.ts';
import type { ClusterInfo } from './cluster-info.ts';
import type { OpensearchSinkConfig } from './config.ts';
import { EndpointHealth } from './endpoint-health.ts';
import { EndpointMetrics } from './opensearch-metrics.ts';

/** Only what the sink reads of each item (the answer stays small when all went well). */
const FILTER_PATH = 'filter_path=errors,items.*.status,items.*.error';

export class Endpoint {
  /** `scheme://host:port/prefix`, for logs and the `endpoint` label. */
  readonly label: string;
  readonly pool: SinkPool;
  readonly bulkPath: string;
  readonly infoPath: string;
  readonly health: EndpointHealth;
  readonly metrics: EndpointMetrics;
  /** Requests under way on this endpoint. */
  inFlight = 0;
  /** What its `GET /` said, once it answered. */
  info: ClusterInfo | undefined;

  constructor(
    url: string,
    config: OpensearchSinkConfig,
    deps: {
      readonly name: string;
      readonly concurrency: number;
      readonly registry: Registry;
      readonly poolFactory?: PoolFactory;
      readonly logger?: Logger;
    },
  ) {
    const parsed = new URL(url);
    const prefix = parsed.pathname.replace(/\/+$/, '');
    this.label = `${parsed.origin}${prefix}`;
    this.pool = createSinkPool(deps.name, parsed, config, deps);
    const pipeline =
      config.pipeline === undefined ? '' : `&pipeline=${encodeURIComponent(config.pipeline)}`;
    this.bulkPath = `${prefix}/_bulk?${FILTER_PATH}${pipeline}`;
    this.infoPath = `${prefix}/`;
    this.health = new EndpointHealth(config.health);
    this.metrics = new EndpointMetrics(deps.name, this.label, deps.registry);
  }
}
