/**
 * The dashboard inside `keepwire serve`: the page at `/` on the admin
 * listener, its read APIs (/v1/ledger, /v1/pipeline, /v1/pipeline/history,
 * /v1/sysctl) and its event stream (/v1/events). It reads other planes only through the metrics
 * registry and their own /v1 routes, never their objects.
 */
import type { FastifyInstance } from 'fastify';
import type { Plane, PlaneContext } from '../plane.ts';
import { registerEventStream } from './event-stream.ts';
import { PipelineHistory } from './pipeline-history.ts';
import { readPipeline, registerReadRoutes } from './read-routes.ts';
import { registerStaticRoutes } from './static-routes.ts';

export function createDashboardPlane(context: PlaneContext): Plane {
  const { watch } = context.config;
  const history = new PipelineHistory(() => readPipeline(context.registry), {
    intervalMs: watch.intervalMs,
    capacity: watch.historySamples,
    onError: (error) =>
      context.logger.warn({ err: error, plane: 'dashboard' }, 'pipeline history sample failed'),
  });
  return {
    name: 'dashboard',
    registerAdminRoutes(app: FastifyInstance) {
      registerStaticRoutes(app);
      registerReadRoutes(app, context.registry);
      app.get('/v1/pipeline/history', () => history.view());
      registerEventStream(app, context.registry);
    },
    async start() {
      history.start();
      context.lifecycle.onShutdown('accept', 'pipeline history', () => history.stop());
    },
  };
}
