/**
 * prom-client's Registry and metric classes, loaded from their own files:
 * its index also loads the cluster aggregator, the Pushgateway, summaries
 * and the default process metrics (~55 ms of a `keepwire ship` start,
 * against ~10 ms for these; docs/benchmarks.md). prom-client has no
 * `exports` map; the version is pinned in package.json, and the metrics
 * tests fail at once if a path moves. Each name is both the class (value)
 * and its instance type, as in prom-client.
 */
import { createRequire } from 'node:module';
import type * as Prom from 'prom-client';

const load = createRequire(import.meta.url);

export const Registry: typeof Prom.Registry = load('prom-client/lib/registry.js');
export type Registry = Prom.Registry;
export const Counter: typeof Prom.Counter = load('prom-client/lib/counter.js');
export type Counter<T extends string = string> = Prom.Counter<T>;
export const Gauge: typeof Prom.Gauge = load('prom-client/lib/gauge.js');
export type Gauge<T extends string = string> = Prom.Gauge<T>;
export const Histogram: typeof Prom.Histogram = load('prom-client/lib/histogram.js');
export type Histogram<T extends string = string> = Prom.Histogram<T>;

/** The process metrics (CPU, memory, event loop lag...), loaded only for a registry that wants them. */
export function collectDefaultMetrics(
  config: Prom.DefaultMetricsCollectorConfiguration<'text/plain; version=0.0.4; charset=utf-8'>,
): void {
  (load('prom-client/lib/defaultMetrics.js') as typeof Prom.collectDefaultMetrics)(config);
}
