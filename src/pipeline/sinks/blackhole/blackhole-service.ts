/**
 * Counts every batch it is given and discards it. Benchmarks use it to
 * measure sources, buffer and driver without a network peer.
 */
import type { Counter, Registry } from '../../../telemetry/index.ts';
import { registeredCounter } from '../../../telemetry/registered-metric.ts';
import { DELIVERED, type SendResult, type SinkService } from '../service.ts';

export class BlackholeService implements SinkService {
  readonly #events: Counter.Internal;
  readonly #bytes: Counter.Internal;
  #eventCount = 0;

  constructor(name: string, registry: Registry) {
    this.#events = registeredCounter(registry, {
      name: 'keepwire_blackhole_events_total',
      help: 'Events counted and discarded by a blackhole sink.',
      labelNames: ['sink'],
    }).labels({ sink: name });
    this.#bytes = registeredCounter(registry, {
      name: 'keepwire_blackhole_bytes_total',
      help: 'Bytes of events counted and discarded by a blackhole sink.',
      labelNames: ['sink'],
    }).labels({ sink: name });
  }

  /** Events discarded since start. */
  get eventCount(): number {
    return this.#eventCount;
  }

  async send(records: readonly Buffer[], signal: AbortSignal): Promise<SendResult> {
    signal.throwIfAborted();
    let bytes = 0;
    for (const record of records) bytes += record.length;
    this.#eventCount += records.length;
    this.#events.inc(records.length);
    this.#bytes.inc(bytes);
    return DELIVERED;
  }

  async close(): Promise<void> {}
}
