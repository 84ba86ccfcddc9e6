/**
 * The admin listener: `GET /healthz` and `GET /metrics` open (loopback by
 * default, scraped by Prometheus), everything under `/v1/` behind the bearer
 * admin token. Planes add their routes through `registerAdminRoutes`.
 */
import type { FastifyInstance } from 'fastify';
import { isTokenMatch, parseBearer } from '../auth/token.ts';
import type { AdminConfig } from '../config/index.ts';
import { UnauthorizedError } from '../errors.ts';
import type { Logger, Registry } from '../telemetry/index.ts';
import { createHttpServer } from './http-server.ts';

export interface AdminServerOptions {
  config: AdminConfig;
  logger: Logger;
  registry: Registry;
  tokenHash: string;
}

export function createAdminServer(options: AdminServerOptions): FastifyInstance {
  const { config, registry, tokenHash } = options;
  const app = createHttpServer({
    logger: options.logger,
    ...config,
    listener: 'admin',
    registry,
  });

  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/v1/')) return;
    const token = parseBearer(request.headers.authorization);
    if (token === undefined || !isTokenMatch(token, tokenHash)) throw new UnauthorizedError();
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/metrics', async (_request, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });
  return app;
}
