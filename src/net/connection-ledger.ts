/**
 * The connection ledger of one pool: every socket opened and every socket
 * closed, with the reason, and how many requests each carried. Exported as
 * `keepwire_connections_opened_total{sink}`,
 * `keepwire_connections_closed_total{sink,reason}` and
 * `keepwire_connection_requests{sink}` (requests per connection, observed
 * at close). A snapshot gives the same numbers to tests and benchmarks.
 * With a logger, each open and close is also a debug line (`log.level:
 * debug`): which connection, its reason, how many requests it carried.
 */
import type { Counter, Histogram, Logger, Registry } from '../telemetry/index.ts';
import { registeredCounter, registeredHistogram } from '../telemetry/registered-metric.ts';

export type CloseReason =
  | 'idle_timeout'
  | 'peer_closed'
  | 'error'
  | 'max_uses'
  | 'max_lifetime'
  | 'shutdown';

export const CLOSE_REASONS: readonly CloseReason[] = [
  'idle_timeout',
  'peer_closed',
  'error',
  'max_uses',
  'max_lifetime',
  'shutdown',
];

export interface LedgerSnapshot {
  readonly opened: number;
  readonly closed: Readonly<Record<CloseReason, number>>;
  /** Opened and not yet closed. */
  readonly open: number;
  readonly requests: number;
}

export class ConnectionLedger {
  readonly #opened: Counter.Internal;
  readonly #closed: Counter<'sink' | 'reason'>;
  readonly #requests: Histogram.Internal<string>;
  readonly #sink: string;
  #openedCount = 0;
  #requestCount = 0;
  readonly #closedCounts: Record<CloseReason, number> = {
    idle_timeout: 0,
    peer_closed: 0,
    error: 0,
    max_uses: 0,
    max_lifetime: 0,
    shutdown: 0,
  };

  readonly #logger: Logger | undefined;

  constructor(sink: string, registry: Registry, logger?: Logger) {
    this.#sink = sink;
    this.#logger = logger;
    this.#opened = registeredCounter(registry, {
      name: 'keepwire_connections_opened_total',
      help: 'TCP connections a sink pool opened (each one a handshake).',
      labelNames: ['sink'],
    }).labels({ sink });
    this.#closed = registeredCounter(registry, {
      name: 'keepwire_connections_closed_total',
      help: 'TCP connections a sink pool closed or lost, by reason.',
      labelNames: ['sink', 'reason'],
    });
    this.#requests = registeredHistogram(registry, {
      name: 'keepwire_connection_requests',
      help: 'Requests each pooled connection carried, observed when it closed.',
      labelNames: ['sink'],
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 1000, 10_000],
    }).labels({ sink });
    // Every reason shows from the start, at zero, so dashboards see the series.
    for (const reason of CLOSE_REASONS) this.#closed.labels({ sink, reason }).inc(0);
  }

  /** `local`: the connection's own address:port, to tell connections apart in the logs. */
  opened(local?: string): void {
    this.#openedCount += 1;
    this.#opened.inc();
    this.#logger?.debug({ local, open: this.#open() }, 'connection opened');
  }

  /** One request written on a pooled socket. */
  requested(): void {
    this.#requestCount += 1;
  }

  closed(reason: CloseReason, requests: number, local?: string): void {
    this.#closedCounts[reason] += 1;
    this.#closed.labels({ sink: this.#sink, reason }).inc();
    this.#requests.observe(requests);
    this.#logger?.debug({ local, reason, requests, open: this.#open() }, 'connection closed');
  }

  snapshot(): LedgerSnapshot {
    return {
      opened: this.#openedCount,
      closed: { ...this.#closedCounts },
      open: this.#open(),
      requests: this.#requestCount,
    };
  }

  #open(): number {
    let closed = 0;
    for (const reason of CLOSE_REASONS) closed += this.#closedCounts[reason];
    return this.#openedCount - closed;
  }
}
