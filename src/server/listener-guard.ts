/**
 * Limits and quiet failure on one listener's server: a connection cap (over
 * it a new connection is closed at once and counted), accept errors counted
 * instead of crashing the process (an `'error'` on a listening server has no
 * other listener), and clients that leave mid-request counted and logged at
 * most once a minute, without a stack.
 */
import type { Server } from 'node:net';
import type { Logger, Registry } from '../telemetry/index.ts';
import { LogLimiter } from '../telemetry/log-limiter.ts';
import type { Counter } from '../telemetry/metrics.ts';
import { registeredCounter } from '../telemetry/registered-metric.ts';
import { descriptorExhaustion } from './descriptor-exhaustion.ts';

export interface ListenerGuardOptions {
  /** The listener's name in metrics: admin, agents, socket, or the source's name. */
  readonly listener: string;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly maxConnections: number;
}

export class ListenerGuard {
  readonly #options: ListenerGuardOptions;
  readonly #refused: Counter<'listener' | 'reason'>;
  readonly #acceptErrors: Counter<'listener' | 'code'>;
  readonly #aborts: Counter<'listener'>;
  readonly #limiter = new LogLimiter();

  constructor(server: Server, options: ListenerGuardOptions) {
    this.#options = options;
    const { registry } = options;
    this.#refused = registeredCounter(registry, {
      name: 'keepwire_listener_connections_refused_total',
      help: 'Connections a listener closed at once, by reason (max_connections: over its cap)',
      labelNames: ['listener', 'reason'],
    });
    this.#acceptErrors = registeredCounter(registry, {
      name: 'keepwire_listener_accept_errors_total',
      help: 'Errors accepting a connection (EMFILE: the descriptor limit), by listener and code',
      labelNames: ['listener', 'code'],
    });
    this.#aborts = registeredCounter(registry, {
      name: 'keepwire_listener_client_aborts_total',
      help: 'Requests whose client went away before the request was read whole',
      labelNames: ['listener'],
    });
    server.maxConnections = options.maxConnections;
    server.on('drop', () =>
      this.#refused.inc({ listener: options.listener, reason: 'max_connections' }),
    );
    // Only once listening: until then listen() reports its own errors (EADDRINUSE...).
    server.once('listening', () => server.on('error', (error) => this.#acceptError(error)));
  }

  /** A client left mid-request: counted, logged at most once a minute. */
  clientAborted(error: unknown): void {
    const { listener, logger } = this.#options;
    this.#aborts.inc({ listener });
    const suppressed = this.#limiter.take('abort');
    if (suppressed !== undefined) {
      logger.warn(
        { listener, reason: (error as Error)?.message, suppressed },
        'a client went away before its request was read whole; nothing of it was kept',
      );
    }
  }

  #acceptError(error: NodeJS.ErrnoException): void {
    const { listener, logger, registry } = this.#options;
    this.#acceptErrors.inc({ listener, code: error.code ?? 'unknown' });
    if (descriptorExhaustion(registry, logger).report(`listener:${listener}`, error)) return;
    const suppressed = this.#limiter.take('accept');
    if (suppressed !== undefined) {
      logger.error(
        { listener, code: error.code, suppressed },
        `accepting a connection failed: ${error.message}`,
      );
    }
  }
}

/** Whether a request failed because its client went away (not a fault of ours or of its data). */
export function isClientAbort(error: unknown, socketDestroyed: boolean): boolean {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'EPIPE')
    return true;
  return socketDestroyed && (error as Error)?.message === 'aborted';
}
