/**
 * Reads the planes' own metrics back from the registry, so the dashboard's
 * read APIs answer from memory without reaching into another plane: the
 * numbers on the page are the numbers on /metrics.
 */
import type { Registry } from '../telemetry/index.ts';

export interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** Every sample of one metric (none when no plane registered it). */
export async function samplesOf(registry: Registry, name: string): Promise<Sample[]> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return [];
  const got = await metric.get();
  return got.values as Sample[];
}

/** Sums the samples of a metric by one label: `{ [labelValue]: total }`. */
export function sumBy(samples: readonly Sample[], label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const sample of samples) {
    const key = String(sample.labels[label] ?? '');
    out[key] = (out[key] ?? 0) + sample.value;
  }
  return out;
}

/** The sum of every sample (a counter without labels, or all its series). */
export function total(samples: readonly Sample[]): number {
  let sum = 0;
  for (const sample of samples) sum += sample.value;
  return sum;
}
