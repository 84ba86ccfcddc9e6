/**
 * One undici Pool per sink, with the connection-hygiene rules of
 * docs/architecture.md (docs/net.md says how each is enforced and tested):
 *
 * - Idle sockets whose peer sends FIN are destroyed at once: undici's h1
 *   client destroys a socket on 'end' (checked by test/net against nginx).
 * - The idle timeout is shorter than the server's: undici learns
 *   `Keep-Alive: timeout=N` and keeps `N - hintMarginMs`; without a hint it
 *   uses `idleTimeoutMs` (a few seconds).
 * - A request that fails before any response byte because the socket died
 *   under it is resent once, at once, on a fresh connection of its own
 *   (a Client outside the pool that carries that one request).
 * - Maximum uses (undici's `maxRequestsPerClient`) and maximum lifetime
 *   rebalance traffic. The lifetime is ours: undici 7's Pool `clientTtl`
 *   stalls queued requests when the pool is at its connection limit (the
 *   retired Client still counts until it has closed, and nothing resumes the
 *   queue), so instead a socket past its age is destroyed the moment its
 *   Client is idle: on its 'drain' (between two requests, before the pool
 *   hands it the next one) or by a timer when it sits idle. The Client then
 *   connects afresh for its next request.
 * - TCP keepalive probes on, connect/headers/body timeouts set.
 * - Every socket open and close is counted with its reason in the ledger.
 *
 * The Pool is built through an injected factory so tests can wrap it; the
 * Clients inside it are ours (the `factory` option) so that each socket's
 * open, requests and close are attributed without touching undici internals.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type {
  buildConnector as Connector,
  Dispatcher,
  Pool as PoolType,
  Client as UndiciClient,
} from 'undici';
import type { Counter, Logger, Registry } from '../telemetry/index.ts';
import { registeredCounter } from '../telemetry/registered-metric.ts';
import { classifyClose, isStaleSocketError } from './close-reason.ts';
import { ConnectionLedger } from './connection-ledger.ts';
import { buildConnector, Client, Pool, request } from './undici.ts';

export interface SinkPoolOptions {
  /** Sink name: the `sink` label of the ledger. */
  readonly name: string;
  /** scheme://host:port of the peer. */
  readonly origin: string;
  /** Most connections open at once (the sink's concurrency). */
  readonly connections: number;
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  /** Idle timeout when the server sends no `Keep-Alive: timeout=` hint. */
  readonly idleTimeoutMs: number;
  /** How much shorter than the server's hint our idle timeout is. */
  readonly hintMarginMs: number;
  /** Requests per connection before it is replaced (0: unlimited). */
  readonly maxUsesPerConnection: number;
  /** Age after which a connection is replaced (0: unlimited). */
  readonly maxLifetimeMs: number;
  /** Idle time before the first TCP keepalive probe. */
  readonly keepAliveProbeMs: number;
  readonly tls?: ConnectionOptions;
  readonly registry: Registry;
  /** Debug lines for each connection opened and closed (the ledger's). */
  readonly logger?: Logger | undefined;
}

export type PoolFactory = (origin: string, options: PoolType.Options) => Dispatcher;

export const defaultPoolFactory: PoolFactory = (origin, options) => new Pool(origin, options);

export type PooledRequest = Omit<Dispatcher.RequestOptions, 'origin'>;

interface Connection {
  requests: number;
  maxUses: number;
  openedAt: number;
  socket: Socket | undefined;
  /** address:port of our end, kept from the connect for the close's log line. */
  local: string | undefined;
  lifetimeTimer: NodeJS.Timeout | undefined;
  isRetired: boolean;
}

const SEND_HEADERS = 'undici:client:sendHeaders';

export class SinkPool {
  readonly #options: SinkPoolOptions;
  readonly #ledger: ConnectionLedger;
  readonly #resends: Counter.Internal;
  readonly #pool: Dispatcher;
  readonly #clientOptions: UndiciClient.Options;
  readonly #bySocket = new WeakMap<Socket, Connection>();
  /** The socket each Buffer body went out on last. */
  readonly #bodySockets = new WeakMap<Buffer, Socket>();
  readonly #onSendHeaders: (message: unknown) => void;
  #isShuttingDown = false;
  #staleResends = 0;
  #closing: Promise<void> | undefined;

  constructor(options: SinkPoolOptions, factory: PoolFactory = defaultPoolFactory) {
    this.#options = options;
    this.#ledger = new ConnectionLedger(options.name, options.registry, options.logger);
    this.#resends = registeredCounter(options.registry, {
      name: 'keepwire_connection_stale_resends_total',
      help: 'Requests resent once on a fresh connection because a reused socket died before any response byte.',
      labelNames: ['sink'],
    }).labels({ sink: options.name });
    const connect = buildConnector({
      ...options.tls,
      timeout: options.connectTimeoutMs,
      keepAlive: true,
      keepAliveInitialDelay: options.keepAliveProbeMs,
    } as Connector.BuildOptions);
    // undici resets a socket after request number maxRequestsPerClient + 1.
    const maxUses = options.maxUsesPerConnection;
    this.#clientOptions = {
      connect,
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: options.bodyTimeoutMs,
      keepAliveTimeout: options.idleTimeoutMs,
      keepAliveTimeoutThreshold: options.hintMarginMs,
      maxRequestsPerClient: maxUses > 1 ? maxUses - 1 : undefined,
      pipelining: 1,
    };
    this.#onSendHeaders = (message) => {
      const { socket, request } = message as { socket: Socket; request: { body?: unknown } };
      const connection = this.#bySocket.get(socket);
      if (!connection) return;
      if (Buffer.isBuffer(request.body)) this.#bodySockets.set(request.body, socket);
      connection.requests += 1;
      this.#ledger.requested();
    };
    subscribe(SEND_HEADERS, this.#onSendHeaders);
    this.#pool = factory(options.origin, {
      ...this.#clientOptions,
      connections: options.connections,
      factory: (origin, clientOptions) =>
        this.#createClient(origin, clientOptions as UndiciClient.Options, maxUses),
    });
  }

  get ledger(): ConnectionLedger {
    return this.#ledger;
  }

  /** Requests resent once on a fresh connection after a stale socket failed them. */
  get staleResends(): number {
    return this.#staleResends;
  }

  /**
   * Sends one request; the body must be replayable (a Buffer or string).
   * Resolves with the response once its headers arrived.
   */
  async request(pooled: PooledRequest): Promise<Dispatcher.ResponseData> {
    const options = this.#options.maxUsesPerConnection === 1 ? { ...pooled, reset: true } : pooled;
    try {
      return await request(this.#pool, { ...options, origin: this.#options.origin });
    } catch (error) {
      if (
        !isStaleSocketError(error) ||
        (pooled.signal as AbortSignal | undefined)?.aborted ||
        this.#isShuttingDown
      )
        throw error;
      this.#resends.inc();
      this.#staleResends += 1;
      return this.#requestOnFreshConnection(pooled);
    }
  }

  /**
   * Calls `done` once the bytes of `body`, sent by a request that has ended,
   * have all left its socket's write queue. A server may answer before it
   * has read the whole body (and may read the rest afterwards), while undici
   * has queued the body on the socket without a copy: its memory must not
   * be reused until then.
   */
  afterBodyWritten(body: Buffer, done: () => void): void {
    const socket = this.#bodySockets.get(body);
    if (!socket || socket.destroyed || socket.writableLength === 0) {
      done();
      return;
    }
    const finish = () => {
      socket.off('drain', finish).off('close', finish);
      done();
    };
    socket.on('drain', finish).on('close', finish);
  }

  /** Closes every pooled connection (reason `shutdown`) after in-flight requests finish. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#isShuttingDown = true;
      try {
        await this.#pool.close();
      } finally {
        unsubscribe(SEND_HEADERS, this.#onSendHeaders);
      }
    })();
    return this.#closing;
  }

  async #requestOnFreshConnection(pooled: PooledRequest): Promise<Dispatcher.ResponseData> {
    const client = this.#createClient(new URL(this.#options.origin), this.#clientOptions, 1);
    try {
      return await request(client, { ...pooled, origin: this.#options.origin, reset: true });
    } finally {
      // Closes once the response body has been consumed.
      void client.close();
    }
  }

  #createClient(
    origin: URL | string,
    clientOptions: UndiciClient.Options,
    maxUses: number,
  ): UndiciClient {
    const connection: Connection = {
      requests: 0,
      maxUses,
      openedAt: 0,
      socket: undefined,
      local: undefined,
      lifetimeTimer: undefined,
      isRetired: false,
    };
    const connect = clientOptions.connect as Connector.connector;
    const client = new Client(origin, {
      ...clientOptions,
      connect: (connectOptions, callback) =>
        connect(connectOptions, (error, socket) => {
          if (socket) {
            this.#bySocket.set(socket as Socket, connection);
            connection.socket = socket as Socket;
          }
          (callback as (error: Error | null, socket: Socket | null) => void)(
            error,
            socket as Socket | null,
          );
        }),
    });
    const maxLifetimeMs = this.#options.maxLifetimeMs;
    const retireIfOld = (): void => {
      const isOld = Date.now() - connection.openedAt >= maxLifetimeMs;
      if (!isOld || connection.isRetired || client.stats.running > 0) return;
      connection.isRetired = true;
      // No error: undici then keeps any queued request and reconnects for it.
      connection.socket?.destroy();
    };
    client.on('connect', () => {
      connection.requests = 0;
      connection.openedAt = Date.now();
      connection.isRetired = false;
      connection.local = localOf(connection.socket);
      this.#ledger.opened(connection.local);
      if (maxLifetimeMs > 0) {
        connection.lifetimeTimer = setInterval(retireIfOld, maxLifetimeMs).unref();
      }
    });
    // Registered before the pool's own 'drain' listener, so an old socket
    // is retired before the pool gives its Client the next request.
    if (maxLifetimeMs > 0) client.on('drain', retireIfOld);
    client.on('disconnect', (_origin, _targets, error) => {
      clearInterval(connection.lifetimeTimer);
      if (connection.isRetired && !this.#isShuttingDown) {
        this.#ledger.closed('max_lifetime', connection.requests, connection.local);
        return;
      }
      const reason = classifyClose(
        {
          requests: connection.requests,
          maxUses: connection.maxUses,
          isShuttingDown: this.#isShuttingDown,
        },
        error,
      );
      this.#ledger.closed(reason, connection.requests, connection.local);
    });
    return client;
  }
}

function localOf(socket: Socket | undefined): string | undefined {
  return socket?.localPort === undefined ? undefined : `${socket.localAddress}:${socket.localPort}`;
}
