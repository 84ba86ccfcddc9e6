/**
 * The admin listener: `GET /healthz` and `GET /metrics` open (loopback by
 * default, scraped by Prometheus), everything under `/v1/` behind the bearer
 * admin token (wrong tokens answered after a delay growing per address).
 * Planes add their routes through `registerAdminRoutes`.
 */
import type { FastifyInstance } from 'fastify';
import { isTokenMatch, parseBearer } from '../auth/token.ts';
import type { AdminConfig } from '../config/index.ts';
import { AuthThrottle } from '../control/auth-throttle.ts';
import { UnauthorizedError } from '../errors.ts';
import type { Logger, Registry } from '../telemetry/index.ts';
import { registeredCounter } from '../telemetry/registered-metric.ts';
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

  // Wrong tokens from one address are answered ever later (as on the agents listener).
  const throttle = new AuthThrottle({ maxDelayMs: config.authFailureMaxDelayMs });
  const failures = registeredCounter(registry, {
    name: 'keepwire_admin_auth_failures_total',
    help: 'Requests to the admin API refused for a missing or wrong admin token',
    labelNames: [],
  });
  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/v1/')) return;
    const token = parseBearer(request.headers.authorization);
    const address = request.socket.remoteAddress ?? 'unknown';
    if (token === undefined || !isTokenMatch(token, tokenHash)) {
      failures.inc();
      const delayMs = throttle.fail(address);
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      throw new UnauthorizedError();
    }
    throttle.succeed(address);
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/metrics', async (_request, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });
  return app;
}
