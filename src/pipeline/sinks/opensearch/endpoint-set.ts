/**
 * The sink's endpoints: which one a request goes to, and their health.
 *
 * - pick(): among the healthy endpoints not yet tried for this request, the
 *   one with the fewest requests under way (ties taken in turn), so load
 *   spreads and a slow node gets less.
 * - failed() / succeeded(): feed each endpoint's EndpointHealth; an endpoint
 *   set aside takes no requests and is probed with `GET /` after its
 *   backoff (a timer of its own), coming back on probation when it answers.
 * - start(): each endpoint's `GET /` once, in the background: the
 *   distribution and version are logged and exported; an endpoint that
 *   cannot be reached is set aside (and probed), never fatal.
 *
 * With every endpoint set aside, a send fails at once with
 * SinkEndpointsDownError carrying the time to the next probe, and the
 * driver waits that long before trying again.
 */
import type { Logger } from '../../../telemetry/index.ts';
import { SinkEndpointsDownError } from '../../errors.ts';
import { type InfoAnswer, requestClusterInfo } from './cluster-info.ts';
import type { Endpoint } from './endpoint.ts';

export interface EndpointSetOptions {
  readonly sink: string;
  readonly logger: Logger;
  /** The headers of a `GET /` (auth, custom headers). */
  readonly infoHeaders: () => Promise<Record<string, string>>;
  /** How long a probe may take. */
  readonly probeTimeoutMs: number;
  readonly now?: () => number;
}

export class EndpointSet {
  readonly endpoints: readonly Endpoint[];
  readonly #options: EndpointSetOptions;
  readonly #now: () => number;
  readonly #timers = new Map<Endpoint, NodeJS.Timeout>();
  readonly #closing = new AbortController();
  #next = 0;

  constructor(endpoints: readonly Endpoint[], options: EndpointSetOptions) {
    this.endpoints = endpoints;
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  pick(tried?: ReadonlySet<Endpoint>): Endpoint | undefined {
    const count = this.endpoints.length;
    let best: Endpoint | undefined;
    for (let offset = 0; offset < count; offset += 1) {
      const endpoint = this.endpoints[(this.#next + offset) % count]!;
      if (!endpoint.health.isHealthy || tried?.has(endpoint)) continue;
      if (best === undefined || endpoint.inFlight < best.inFlight) best = endpoint;
    }
    this.#next = (this.#next + 1) % count;
    return best;
  }

  /** The error of a send that found every endpoint set aside. */
  allDown(cause?: unknown): SinkEndpointsDownError {
    const now = this.#now();
    const next = Math.min(...this.endpoints.map((endpoint) => endpoint.health.probeAt));
    const labels = this.endpoints.map((endpoint) => endpoint.label).join(', ');
    return new SinkEndpointsDownError(
      `sink ${this.#options.sink}: every endpoint is set aside after failing (${labels}); the batch waits for the next probe (check that the nodes are up and reachable)`,
      Math.max(0, next - now),
      { cause },
    );
  }

  succeeded(endpoint: Endpoint): void {
    if (endpoint.health.succeeded())
      this.#options.logger.info({ endpoint: endpoint.label }, 'endpoint healthy again');
  }

  failed(endpoint: Endpoint, error: unknown): void {
    if (!endpoint.health.failed(this.#now())) return;
    this.#setAside(endpoint, error, 'endpoint set aside after failing; it will be probed');
  }

  start(): void {
    for (const endpoint of this.endpoints) void this.#identify(endpoint);
  }

  close(): void {
    this.#closing.abort(new Error('sink closing'));
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  async #identify(endpoint: Endpoint): Promise<void> {
    let answer: InfoAnswer;
    try {
      answer = await this.#askInfo(endpoint);
    } catch (error) {
      if (this.#closing.signal.aborted) return;
      endpoint.health.unreachable(this.#now());
      this.#setAside(
        endpoint,
        error,
        'endpoint unreachable at start; set aside, it will be probed',
      );
      return;
    }
    if (answer.status >= 500) {
      endpoint.health.unreachable(this.#now());
      const error = new Error(`GET / answered ${answer.status}`);
      this.#setAside(endpoint, error, 'endpoint failing at start; set aside, it will be probed');
      return;
    }
    this.#identified(endpoint, answer);
  }

  #setAside(endpoint: Endpoint, error: unknown, message: string): void {
    endpoint.metrics.healthy(false);
    const probeInMs = Math.max(0, endpoint.health.probeAt - this.#now());
    this.#options.logger.warn({ endpoint: endpoint.label, err: error, probeInMs }, message);
    this.#schedule(endpoint, probeInMs);
  }

  #schedule(endpoint: Endpoint, delayMs: number): void {
    if (this.#closing.signal.aborted) return;
    clearTimeout(this.#timers.get(endpoint));
    const timer = setTimeout(() => void this.#probe(endpoint), delayMs);
    timer.unref();
    this.#timers.set(endpoint, timer);
  }

  async #probe(endpoint: Endpoint): Promise<void> {
    this.#timers.delete(endpoint);
    let answer: InfoAnswer | undefined;
    try {
      answer = await this.#askInfo(endpoint);
    } catch (error) {
      if (this.#closing.signal.aborted) return;
      this.#options.logger.debug({ endpoint: endpoint.label, err: error }, 'probe failed');
    }
    if (this.#closing.signal.aborted) return;
    // Any answer below 500 is a node that works; a 401 shows on the next request.
    if (answer === undefined || answer.status >= 500) {
      endpoint.health.probeFailed(this.#now());
      this.#schedule(endpoint, Math.max(0, endpoint.health.probeAt - this.#now()));
      return;
    }
    endpoint.health.probeSucceeded();
    endpoint.metrics.healthy(true);
    this.#identified(endpoint, answer);
    this.#options.logger.info(
      { endpoint: endpoint.label },
      'endpoint answered its probe; back on probation',
    );
  }

  async #askInfo(endpoint: Endpoint): Promise<InfoAnswer> {
    const signal = AbortSignal.any([
      this.#closing.signal,
      AbortSignal.timeout(this.#options.probeTimeoutMs),
    ]);
    return requestClusterInfo(
      endpoint.pool,
      endpoint.infoPath,
      await this.#options.infoHeaders(),
      signal,
    );
  }

  #identified(endpoint: Endpoint, answer: InfoAnswer): void {
    const { info } = answer;
    if (info === undefined) {
      this.#options.logger.warn(
        { endpoint: endpoint.label, status: answer.status },
        'GET / did not answer with cluster info (check the endpoint URL and the credentials)',
      );
      return;
    }
    if (endpoint.info?.version === info.version && endpoint.info.distribution === info.distribution)
      return;
    endpoint.info = info;
    endpoint.metrics.identified(info.distribution, info.version);
    this.#options.logger.info(
      {
        endpoint: endpoint.label,
        distribution: info.distribution,
        version: info.version,
        cluster: info.clusterName,
      },
      'endpoint identified',
    );
  }
}
