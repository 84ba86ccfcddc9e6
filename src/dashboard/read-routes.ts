/**
 * The read APIs of the dashboard, on the admin listener behind the admin
 * token: GET /v1/ledger, GET /v1/pipeline and GET /v1/sysctl. Ledger and
 * pipeline numbers are read back from the metrics registry (the same numbers
 * as /metrics); the sysctl audit reads /proc/sys on each request.
 */
import type { FastifyInstance } from 'fastify';
import { auditSysctl } from '../conntrack/sysctl-reader.ts';
import type { Registry } from '../telemetry/index.ts';
import { type Sample, samplesOf, sumBy } from './metric-reader.ts';

export interface LedgerView {
  sinks: {
    sink: string;
    opened: number;
    open: number;
    /** Requests written on pooled connections. */
    requests: number;
    /** Requests beyond each connection's first: the handshakes the pool saved. */
    reused: number;
    closed: Record<string, number>;
  }[];
}

export async function readLedger(registry: Registry): Promise<LedgerView> {
  const opened = sumBy(await samplesOf(registry, 'keepwire_connections_opened_total'), 'sink');
  const closedSamples = await samplesOf(registry, 'keepwire_connections_closed_total');
  const requests = sumBy(await samplesOf(registry, 'keepwire_connection_requests_total'), 'sink');
  const sinks = new Set([
    ...Object.keys(opened),
    ...closedSamples.map((s) => String(s.labels.sink)),
  ]);
  return {
    sinks: [...sinks].sort().map((sink) => {
      const closed: Record<string, number> = {};
      let closedTotal = 0;
      for (const s of closedSamples) {
        if (s.labels.sink !== sink) continue;
        closed[String(s.labels.reason)] = s.value;
        closedTotal += s.value;
      }
      const openedCount = opened[sink] ?? 0;
      const requestCount = requests[sink] ?? 0;
      return {
        sink,
        opened: openedCount,
        open: openedCount - closedTotal,
        requests: requestCount,
        reused: Math.max(0, requestCount - openedCount),
        closed,
      };
    }),
  };
}

export interface PipelineView {
  sources: { source: string; received: number; receivedBytes: number; rejected: number }[];
  sinks: {
    sink: string;
    sent: number;
    sentBytes: number;
    bufferEvents: number;
    bufferBytes: number;
    retries: number;
    deadLettered: number;
    dropped: number;
    inFlight: number;
  }[];
  endpoints: { sink: string; endpoint: string; healthy: boolean }[];
}

export async function readPipeline(registry: Registry): Promise<PipelineView> {
  const by = async (name: string, label: string) => sumBy(await samplesOf(registry, name), label);
  const received = await by('keepwire_pipeline_events_received_total', 'source');
  const receivedBytes = await by('keepwire_pipeline_received_bytes_total', 'source');
  const rejected = await by('keepwire_pipeline_events_rejected_total', 'source');
  const sinkMetrics = {
    sent: await by('keepwire_sink_events_sent_total', 'sink'),
    sentBytes: await by('keepwire_sink_sent_bytes_total', 'sink'),
    bufferEvents: await by('keepwire_pipeline_buffer_events', 'sink'),
    bufferBytes: await by('keepwire_pipeline_buffer_bytes', 'sink'),
    retries: await by('keepwire_sink_retries_total', 'sink'),
    deadLettered: await by('keepwire_sink_events_dead_lettered_total', 'sink'),
    dropped: await by('keepwire_pipeline_events_dropped_total', 'sink'),
    inFlight: await by('keepwire_sink_requests_in_flight', 'sink'),
  };
  const sinkNames = new Set<string>();
  for (const values of Object.values(sinkMetrics))
    for (const k of Object.keys(values)) sinkNames.add(k);
  const endpoints: Sample[] = await samplesOf(registry, 'keepwire_opensearch_endpoint_healthy');
  return {
    sources: Object.keys({ ...received, ...rejected })
      .sort()
      .map((source) => ({
        source,
        received: received[source] ?? 0,
        receivedBytes: receivedBytes[source] ?? 0,
        rejected: rejected[source] ?? 0,
      })),
    sinks: [...sinkNames].sort().map((sink) => ({
      sink,
      sent: sinkMetrics.sent[sink] ?? 0,
      sentBytes: sinkMetrics.sentBytes[sink] ?? 0,
      bufferEvents: sinkMetrics.bufferEvents[sink] ?? 0,
      bufferBytes: sinkMetrics.bufferBytes[sink] ?? 0,
      retries: sinkMetrics.retries[sink] ?? 0,
      deadLettered: sinkMetrics.deadLettered[sink] ?? 0,
      dropped: sinkMetrics.dropped[sink] ?? 0,
      inFlight: sinkMetrics.inFlight[sink] ?? 0,
    })),
    endpoints: endpoints.map((s) => ({
      sink: String(s.labels.sink),
      endpoint: String(s.labels.endpoint),
      healthy: s.value === 1,
    })),
  };
}

export function registerReadRoutes(app: FastifyInstance, registry: Registry): void {
  app.get('/v1/ledger', () => readLedger(registry));
  app.get('/v1/pipeline', () => readPipeline(registry));
  app.get('/v1/sysctl', () => auditSysctl());
}
