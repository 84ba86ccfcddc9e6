/**
 * The base of every Keepwire listener: fastify with body-size limits,
 * request and keep-alive timeouts, idle connections closed on shutdown, and
 * one error shape (`{"error": {"code", "message"}}`) for every failure.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { isKeepwireError } from '../errors.ts';
import type { Logger } from '../telemetry/index.ts';

export interface HttpServerOptions {
  logger: Logger;
  bodyLimitBytes: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** TLS (and client certificates with ca + requestCert); plain HTTP when absent. */
  https?: import('node:https').ServerOptions;
}

export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const app = Fastify({
    ...(options.https ? { https: options.https } : {}),
    loggerInstance: options.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes,
    requestTimeout: options.requestTimeoutMs,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    // Headers must arrive promptly even when bodies may stream for longer.
    connectionTimeout: 0,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  });
  app.server.headersTimeout = Math.min(options.requestTimeoutMs, 60_000);

  app.setErrorHandler((error, request, reply) => {
    if (isKeepwireError(error)) {
      if (error.status >= 500) request.log.error({ err: error }, error.message);
      return reply.code(error.status).send(error.toJSON());
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
