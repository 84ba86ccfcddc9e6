/**
 * The http source: `POST /v1/events` (NDJSON or a JSON array, gzip
 * accepted) and `POST /v1/modsecurity` (ModSecurity's HTTPS audit-log
 * writer: one JSON or native record per request with `ModSec-*` headers,
 * also recognised on /v1/events by those headers), each record normalized
 * to one event by the ModSecurity decoder (modsecurity-intake.ts). It answers only once the
 * events are durable in every routed buffer; a full buffer under
 * `whenFull: block` gives 503 with Retry-After and nothing is kept; a
 * request larger than the buffer can ever hold gives 413 (split it).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isTokenMatch, parseBearer } from '../../../auth/token.ts';
import type { ListenAddress } from '../../../config/index.ts';
import { isKeepwireError, UnauthorizedError } from '../../../errors.ts';
import { closeListener } from '../../../server/close-listener.ts';
import { createHttpServer } from '../../../server/http-server.ts';
import { explainListenError } from '../../../server/startup-errors.ts';
import type { Logger } from '../../../telemetry/index.ts';
import { ModsecurityRecordError } from '../../codecs/modsecurity/index.ts';
import type { PipelineMetrics } from '../../pipeline-metrics.ts';
import { parseEvents } from '../event-parser.ts';
import type { AppendRecords } from '../source.ts';
import { decodeModsecurityBody, hasModsecurityHeaders } from './modsecurity-intake.ts';
import { readBody } from './request-body.ts';
import type { HttpSourceConfig } from './schema.ts';

export interface HttpSourceOptions {
  readonly name: string;
  readonly config: HttpSourceConfig;
  readonly logger: Logger;
  readonly metrics: PipelineMetrics;
  readonly append: AppendRecords;
}

export class HttpSource {
  readonly #options: HttpSourceOptions;
  readonly #app: FastifyInstance;
  readonly #appending = new Set<Promise<void>>();

  constructor(options: HttpSourceOptions) {
    this.#options = options;
    const { config } = options;
    this.#app = createHttpServer({
      logger: options.logger,
      bodyLimitBytes: config.bodyLimitBytes,
      requestTimeoutMs: config.requestTimeoutMs,
      keepAliveTimeoutMs: config.keepAliveTimeoutMs,
      listener: options.name,
      registry: options.metrics.registry,
      maxConnections: config.maxConnections,
      readsRawBodies: true,
    });
    // Bodies are read by readBody as streams (limit after gzip), not by fastify.
    this.#app.removeAllContentTypeParsers();
    this.#app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    this.#app.addHook('onError', async (_request, reply, error) => {
      if (isKeepwireError(error)) {
        const reason =
          error.code === 'SHIP_BUFFER_FULL'
            ? 'buffer_full'
            : error.code === 'UNAUTHORIZED'
              ? 'unauthorized'
              : error.status === 413
                ? 'too_large'
                : 'invalid';
        options.metrics.rejected.inc({ source: options.name, reason });
        // The rest of a refused body may still be on the wire: never reuse
        // that connection, or its bytes would be read as the next request.
        if (error.status === 413 || error.status === 400) reply.header('connection', 'close');
        if ('retryAfterMs' in error && typeof error.retryAfterMs === 'number') {
          reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))));
        }
      }
    });
    this.#app.post('/v1/events', (request, reply) =>
      this.#receive(request, reply, hasModsecurityHeaders(request.headers)),
    );
    this.#app.post('/v1/modsecurity', (request, reply) => this.#receive(request, reply, true));
  }

  async #receive(
    request: FastifyRequest,
    reply: FastifyReply,
    isModSecurity: boolean,
  ): Promise<unknown> {
    const { config, metrics, name } = this.#options;
    if (config.tokenHash !== undefined) {
      const token = parseBearer(request.headers.authorization);
      if (!token || !isTokenMatch(token, config.tokenHash)) throw new UnauthorizedError();
    }
    const body = await readBody(
      request.raw,
      request.headers['content-encoding'],
      config.bodyLimitBytes,
    );
    const records = isModSecurity
      ? [this.#decodeModsecurity(body, request)]
      : parseEvents(body, config.maxLineBytes);
    if (records.length > 0) await this.#track(this.#options.append(records));
    let bytes = 0;
    for (const record of records) bytes += record.length;
    metrics.received.inc({ source: name }, records.length);
    metrics.receivedBytes.inc({ source: name }, bytes);
    // ModSecurity's writer opens a connection per entry and never reuses it.
    // Closing from our side once answered keeps a CLOSE-WAIT from ever
    // forming here, and when our FIN reaches the writer before it closes (a
    // race: 12% to 46% of the entries in test/integration/modsecurity-https.test.ts,
    // none without it) the TIME-WAIT stays here instead of using up the web
    // server's ports toward us.
    if (isModSecurity && hasModsecurityHeaders(request.headers))
      reply.header('connection', 'close');
    return reply.code(200).send({ accepted: records.length });
  }

  /**
   * ModSecurity does nothing with our answer but note a failure in its web
   * server's error log, so a record refused here is also logged, with the id
   * its writer sent.
   */
  #decodeModsecurity(body: Buffer, request: FastifyRequest): Buffer {
    try {
      return decodeModsecurityBody(body, request.headers);
    } catch (error) {
      if (error instanceof ModsecurityRecordError) {
        this.#options.logger.warn(
          {
            source: this.#options.name,
            uniqueId: request.headers['modsec-unique-id'],
            reason: error.message,
          },
          'ModSecurity audit record refused',
        );
      }
      throw error;
    }
  }

  /** Listens; returns the bound address (port 0 picks a free one). */
  async start(): Promise<ListenAddress> {
    const { listen } = this.#options.config;
    await this.#app.listen({ host: listen.host, port: listen.port }).catch((error: unknown) => {
      throw explainListenError(error, `the http source "${this.#options.name}" (--events, listen)`);
    });
    const bound = this.#app.server.address();
    return typeof bound === 'object' && bound !== null
      ? { host: bound.address, port: bound.port }
      : listen;
  }

  /**
   * Stops accepting; requests in progress get `graceMs` to finish, then their
   * connections are cut. Appends already begun always complete before this
   * resolves (the buffers close after it): an event is either stored or its
   * client never got a 200.
   */
  async stop(graceMs = 5_000): Promise<void> {
    await closeListener(this.#app, graceMs);
    await Promise.allSettled(this.#appending);
  }

  async #track(append: Promise<void>): Promise<void> {
    this.#appending.add(append);
    try {
      await append;
    } finally {
      this.#appending.delete(append);
    }
  }
}
