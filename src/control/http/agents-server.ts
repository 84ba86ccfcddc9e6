/**
 * The agents listener: HTTP, or TLS (mutual TLS with caFile + requestCert)
 * when configured. Every accepted socket gets TCP keepalive probes, so a
 * silently dropped agent is found and its long-poll removed.
 */
import { readFileSync } from 'node:fs';
import type { ServerOptions } from 'node:https';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { AgentsConfig } from '../../config/index.ts';
import { createHttpServer } from '../../server/http-server.ts';
import type { Logger, Registry } from '../../telemetry/index.ts';

export function createAgentsServer(
  config: AgentsConfig,
  logger: Logger,
  registry?: Registry,
): FastifyInstance {
  const app = createHttpServer({
    logger,
    listener: 'agents',
    registry,
    maxConnections: config.maxConnections,
    bodyLimitBytes: config.bodyLimitBytes,
    requestTimeoutMs: config.requestTimeoutMs,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
    ...(config.tls ? { https: tlsOptions(config.tls) } : {}),
  });
  const event = config.tls ? 'secureConnection' : 'connection';
  app.server.on(event, (socket: Socket) => socket.setKeepAlive(true, config.tcpKeepAliveMs));
  return app;
}

function tlsOptions(tls: NonNullable<AgentsConfig['tls']>): ServerOptions {
  return {
    cert: readFileSync(tls.certFile),
    key: readFileSync(tls.keyFile),
    ...(tls.caFile ? { ca: readFileSync(tls.caFile) } : {}),
    requestCert: tls.requestCert,
    rejectUnauthorized: tls.requestCert,
  };
}
