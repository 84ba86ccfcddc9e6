/**
 * Get-or-create for metrics shared by several instances on one registry
 * (one per sink, say): the first instance registers the metric, the others
 * reuse it and tell themselves apart by label.
 */
import { Counter, Gauge, Histogram, type Registry } from './prom.ts';

interface MetricSpec<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
}

export function registeredCounter<L extends string>(
  registry: Registry,
  spec: MetricSpec<L>,
): Counter<L> {
  const existing = registry.getSingleMetric(spec.name);
  if (existing) return existing as Counter<L>;
  return new Counter<L>({ ...spec, labelNames: [...spec.labelNames], registers: [registry] });
}

export function registeredGauge<L extends string>(
  registry: Registry,
  spec: MetricSpec<L>,
): Gauge<L> {
  const existing = registry.getSingleMetric(spec.name);
  if (existing) return existing as Gauge<L>;
  return new Gauge<L>({ ...spec, labelNames: [...spec.labelNames], registers: [registry] });
}

export function registeredHistogram<L extends string>(
  registry: Registry,
  spec: MetricSpec<L> & { readonly buckets: readonly number[] },
): Histogram<L> {
  const existing = registry.getSingleMetric(spec.name);
  if (existing) return existing as Histogram<L>;
  return new Histogram<L>({
    ...spec,
    labelNames: [...spec.labelNames],
    buckets: [...spec.buckets],
    registers: [registry],
  });
}
