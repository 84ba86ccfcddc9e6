/**
 * Per-sink delivery metrics, labelled by sink: events and bytes delivered
 * (and of those, how many the peer already had), sends retried and events
 * sent again, events dead-lettered, batch latency (first send to delivery,
 * retries included), requests in flight and failed acknowledgements.
 */
import type { Counter, Gauge, Histogram, Registry } from '../../telemetry/index.ts';
import {
  registeredCounter,
  registeredGauge,
  registeredHistogram,
} from '../../telemetry/registered-metric.ts';

export class SinkMetrics {
  readonly eventsSent: Counter.Internal;
  readonly bytesSent: Counter.Internal;
  readonly alreadyPresent: Counter.Internal;
  readonly retries: Counter.Internal;
  readonly eventsRetried: Counter.Internal;
  readonly deadLettered: Counter.Internal;
  readonly batchSeconds: Histogram.Internal<string>;
  readonly inFlight: Gauge.Internal<string>;
  readonly ackErrors: Counter.Internal;

  constructor(sink: string, registry: Registry) {
    const labels = ['sink'] as const;
    this.eventsSent = registeredCounter(registry, {
      name: 'keepwire_sink_events_sent_total',
      help: 'Events a sink delivered (acknowledged by the peer).',
      labelNames: labels,
    }).labels({ sink });
    this.bytesSent = registeredCounter(registry, {
      name: 'keepwire_sink_sent_bytes_total',
      help: 'Bytes of events a sink delivered, before encoding and compression.',
      labelNames: labels,
    }).labels({ sink });
    this.alreadyPresent = registeredCounter(registry, {
      name: 'keepwire_sink_events_already_present_total',
      help: 'Events delivered that the peer already had (a _bulk create answered 409), counted in events_sent too.',
      labelNames: labels,
    }).labels({ sink });
    this.retries = registeredCounter(registry, {
      name: 'keepwire_sink_retries_total',
      help: 'Sends that left events to send again (a retryable failure, or items to retry), each followed by a backoff.',
      labelNames: labels,
    }).labels({ sink });
    this.eventsRetried = registeredCounter(registry, {
      name: 'keepwire_sink_events_retried_total',
      help: 'Events sent again after a retryable failure of their own or of their whole send.',
      labelNames: labels,
    }).labels({ sink });
    this.deadLettered = registeredCounter(registry, {
      name: 'keepwire_sink_events_dead_lettered_total',
      help: 'Events the sink refused for good, written to the dead-letter file.',
      labelNames: labels,
    }).labels({ sink });
    this.batchSeconds = registeredHistogram(registry, {
      name: 'keepwire_sink_batch_duration_seconds',
      help: 'From a batch first sent to its delivery or dead-lettering, retries included.',
      labelNames: labels,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    }).labels({ sink });
    this.inFlight = registeredGauge(registry, {
      name: 'keepwire_sink_requests_in_flight',
      help: 'Batch sends under way.',
      labelNames: labels,
    }).labels({ sink });
    this.ackErrors = registeredCounter(registry, {
      name: 'keepwire_sink_ack_errors_total',
      help: 'Delivered batches whose acknowledgement to the buffer failed (not sent again; repeated after a restart).',
      labelNames: labels,
    }).labels({ sink });
  }
}
