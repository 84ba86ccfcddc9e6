/**
 * The pipeline's own metrics (sources and buffers), registered once on the
 * injected registry. The sink driver registers its delivery metrics (sent,
 * retried, dead-lettered, batch latency, requests in flight) itself.
 */
import { Counter, Gauge, type Registry } from '../telemetry/prom.ts';
import type { EventBuffer } from './buffer/buffer.ts';

export class PipelineMetrics {
  readonly received: Counter<'source'>;
  readonly receivedBytes: Counter<'source'>;
  readonly rejected: Counter<'source' | 'reason'>;
  readonly dropped: Counter<'sink' | 'reason'>;
  readonly lostBytes: Counter<'sink'>;
  readonly writeErrors: Counter<'sink'>;
  readonly #buffers = new Map<string, EventBuffer>();

  /** Where these metrics live; the sources' listeners register theirs there too. */
  readonly registry: Registry;

  constructor(registry: Registry) {
    this.registry = registry;
    this.received = new Counter({
      name: 'keepwire_pipeline_events_received_total',
      help: 'Events accepted by a source (appended to every routed buffer)',
      labelNames: ['source'],
      registers: [registry],
    });
    this.receivedBytes = new Counter({
      name: 'keepwire_pipeline_received_bytes_total',
      help: 'Bytes of events accepted by a source',
      labelNames: ['source'],
      registers: [registry],
    });
    this.rejected = new Counter({
      name: 'keepwire_pipeline_events_rejected_total',
      help: 'Requests, lines or events a source refused (invalid, too large, buffer full, unauthorized)',
      labelNames: ['source', 'reason'],
      registers: [registry],
    });
    this.dropped = new Counter({
      name: 'keepwire_pipeline_events_dropped_total',
      help: 'Events a buffer dropped: full (oldest/newest) or corrupt on disk',
      labelNames: ['sink', 'reason'],
      registers: [registry],
    });
    this.lostBytes = new Counter({
      name: 'keepwire_pipeline_buffer_lost_bytes_total',
      help: 'Bytes of damaged disk-buffer regions whose event count cannot be known (discarded at start-up)',
      labelNames: ['sink'],
      registers: [registry],
    });
    this.writeErrors = new Counter({
      name: 'keepwire_pipeline_buffer_write_errors_total',
      help: 'Times a disk buffer went from healthy to failing (a failed write or fdatasync)',
      labelNames: ['sink'],
      registers: [registry],
    });
    const buffers = this.#buffers;
    new Gauge({
      name: 'keepwire_pipeline_buffer_events',
      help: 'Events in a sink buffer not yet acknowledged',
      labelNames: ['sink'],
      registers: [registry],
      collect() {
        for (const [sink, buffer] of buffers) this.set({ sink }, buffer.pendingEvents);
      },
    });
    new Gauge({
      name: 'keepwire_pipeline_buffer_bytes',
      help: 'Bytes of events in a sink buffer not yet acknowledged',
      labelNames: ['sink'],
      registers: [registry],
      collect() {
        for (const [sink, buffer] of buffers) this.set({ sink }, buffer.pendingBytes);
      },
    });
    new Gauge({
      name: 'keepwire_pipeline_buffer_appends_waiting',
      help: 'Appends (source requests) waiting for room in a full sink buffer (whenFull: block)',
      labelNames: ['sink'],
      registers: [registry],
      collect() {
        for (const [sink, buffer] of buffers) this.set({ sink }, buffer.waitingAppends);
      },
    });
  }

  watchBuffer(sink: string, buffer: EventBuffer): void {
    this.#buffers.set(sink, buffer);
  }
}
