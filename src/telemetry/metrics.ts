import { collectDefaultMetrics, Registry } from './prom.ts';

export type { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * A fresh metrics registry: never prom-client's global one, so tests and
 * several instances in one process stay apart. Names follow Prometheus
 * conventions with the unit in the name (`_seconds`, `_bytes`, `_total`).
 */
export function createRegistry(options: { processMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (options.processMetrics ?? true)
    collectDefaultMetrics({ register: registry, prefix: 'keepwire_' });
  return registry;
}
