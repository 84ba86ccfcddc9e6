/**
 * The opensearch sink's own metrics, labelled by sink and endpoint (the
 * driver's keepwire_sink_* metrics count per sink only):
 *
 * - keepwire_opensearch_documents_total{sink,endpoint,result}: result is
 *   `indexed`, `already_present` (a create answered 409), `retried` (the
 *   item, or the whole request, to be sent again: 429, 5xx, no answer) or
 *   `dead_lettered` (refused for good);
 * - keepwire_opensearch_bulk_requests_total{sink,endpoint,status}: the
 *   whole request's HTTP status, or `error` when no answer came;
 * - keepwire_opensearch_endpoint_healthy{sink,endpoint}: 1 healthy, 0 set aside;
 * - keepwire_opensearch_endpoint_info{sink,endpoint,distribution,version}: 1
 *   once the endpoint's `GET /` answered (`opensearch` or `elasticsearch`).
 */
import type { Counter, Gauge, Registry } from '../../../telemetry/index.ts';
import { registeredCounter, registeredGauge } from '../../../telemetry/registered-metric.ts';
import type { BulkOutcome } from './bulk-response.ts';

export class EndpointMetrics {
  readonly #documents: Counter<'sink' | 'endpoint' | 'result'>;
  readonly #requests: Counter<'sink' | 'endpoint' | 'status'>;
  readonly #healthy: Gauge.Internal<string>;
  readonly #info: Gauge<'sink' | 'endpoint' | 'distribution' | 'version'>;
  readonly #labels: { sink: string; endpoint: string };

  constructor(sink: string, endpoint: string, registry: Registry) {
    this.#labels = { sink, endpoint };
    this.#documents = registeredCounter(registry, {
      name: 'keepwire_opensearch_documents_total',
      help: 'Documents of _bulk requests by what became of them: indexed, already_present (create answered 409), retried (429, 5xx), dead_lettered.',
      labelNames: ['sink', 'endpoint', 'result'],
    });
    this.#requests = registeredCounter(registry, {
      name: 'keepwire_opensearch_bulk_requests_total',
      help: '_bulk requests by the HTTP status of the whole answer (error: no answer).',
      labelNames: ['sink', 'endpoint', 'status'],
    });
    this.#healthy = registeredGauge(registry, {
      name: 'keepwire_opensearch_endpoint_healthy',
      help: '1 while an endpoint takes requests, 0 while it is set aside after failing.',
      labelNames: ['sink', 'endpoint'],
    }).labels(this.#labels);
    this.#info = registeredGauge(registry, {
      name: 'keepwire_opensearch_endpoint_info',
      help: "1 for the distribution and version an endpoint's GET / reported.",
      labelNames: ['sink', 'endpoint', 'distribution', 'version'],
    });
    for (const result of ['indexed', 'already_present', 'retried', 'dead_lettered'])
      this.#documents.labels({ ...this.#labels, result }).inc(0);
    this.#healthy.set(1);
  }

  requested(status: number | 'error'): void {
    this.#requests.labels({ ...this.#labels, status: String(status) }).inc();
  }

  answered(outcome: BulkOutcome): void {
    const count = (result: string, value: number) => {
      if (value > 0) this.#documents.labels({ ...this.#labels, result }).inc(value);
    };
    count('indexed', outcome.indexed);
    count('already_present', outcome.alreadyPresent);
    count('retried', outcome.retry.length);
    count('dead_lettered', outcome.rejected.length);
  }

  /** Documents of a whole request to be sent again (no answer, 429, 5xx). */
  retried(count: number): void {
    this.#documents.labels({ ...this.#labels, result: 'retried' }).inc(count);
  }

  /** Documents refused without an item answer (a single document still too large). */
  deadLettered(count: number): void {
    this.#documents.labels({ ...this.#labels, result: 'dead_lettered' }).inc(count);
  }

  healthy(isHealthy: boolean): void {
    this.#healthy.set(isHealthy ? 1 : 0);
  }

  identified(distribution: string, version: string): void {
    this.#info.labels({ ...this.#labels, distribution, version }).set(1);
  }
}
