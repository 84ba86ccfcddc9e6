/**
 * The base of every Keepwire listener: fastify with body-size limits,
 * request and keep-alive timeouts, a connection cap, idle connections closed
 * on shutdown, and one error shape (`{"error": {"code", "message"}}`) for
 * every failure.
 */
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  LogController,
} from 'fastify';
import { DEFAULT_MAX_CONNECTIONS } from '../config/limits.ts';
import { isKeepwireError } from '../errors.ts';
import { createRegistry, type Logger, type Registry } from '../telemetry/index.ts';
import { refuseContentEncoding, useCheckedJsonParser } from './json-body.ts';
import { isClientAbort, ListenerGuard } from './listener-guard.ts';

export interface HttpServerOptions {
  logger: Logger;
  bodyLimitBytes: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** The listener's name in metrics (admin, agents, socket, a source's name). */
  listener?: string;
  /** Where the listener's metrics go; a private registry when absent (tests). */
  registry?: Registry;
  maxConnections?: number;
  /** The listener reads bodies itself, encodings included (the http source). */
  readsRawBodies?: boolean;
  /** TLS (and client certificates with ca + requestCert); plain HTTP when absent. */
  https?: import('node:https').ServerOptions;
}

export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  // Node checks request and header timeouts only this often (30 s by default),
  // so a slow body could live requestTimeoutMs + 30 s: check 4 times per timeout.
  const connectionsCheckingInterval = Math.min(1_000, Math.max(50, options.requestTimeoutMs / 4));
  const app = Fastify({
    ...(options.https
      ? { https: { ...options.https, connectionsCheckingInterval } }
      : { http: { connectionsCheckingInterval } }),
    loggerInstance: options.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes,
    requestTimeout: options.requestTimeoutMs,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    // Headers must arrive promptly even when bodies may stream for longer.
    connectionTimeout: 0,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    // Errors the router meets before any route (an over-long id): our shape, not fastify's.
    frameworkErrors: (error, _request, reply) => {
      const status = (error as { statusCode?: number }).statusCode ?? 400;
      const error414 = {
        code: 'URI_TOO_LONG',
        message: 'a path segment is longer than 100 characters',
      };
      const body = status === 414 ? error414 : { code: 'BAD_REQUEST', message: error.message };
      (reply as FastifyReply).code(status).send({ error: body });
    },
  });
  if (!options.readsRawBodies) {
    useCheckedJsonParser(app);
    refuseContentEncoding(app);
  }
  app.server.headersTimeout = Math.min(options.requestTimeoutMs, 60_000);
  const guard = new ListenerGuard(app.server, {
    listener: options.listener ?? 'http',
    registry: options.registry ?? createRegistry({ processMetrics: false }),
    logger: options.logger,
    maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
  });

  app.setErrorHandler((error, request, reply) => {
    if (isKeepwireError(error)) {
      if (error.status >= 500) request.log.error({ err: error }, error.message);
      return reply.code(error.status).send(error.toJSON());
    }
    if (isClientAbort(error, request.raw.destroyed)) {
      guard.clientAborted(error);
      return reply
        .code(400)
        .send({ error: { code: 'CLIENT_ABORTED', message: 'the client went away' } });
    }
    const fastifyError = error as { statusCode?: number; code?: string; message: string };
    const status = fastifyError.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return reply.code(500).send({ error: { code: 'INTERNAL', message: 'internal error' } });
    }
    return reply
      .code(status)
      .send({ error: { code: fastifyError.code ?? 'BAD_REQUEST', message: fastifyError.message } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url}` },
    }),
  );
  return app;
}
