/**
 * The dashboard inside `keepwire serve`: the page at `/` on the admin
 * listener, its read APIs (/v1/ledger, /v1/pipeline, /v1/sysctl) and its
 * event stream (/v1/events). It reads other planes only through the metrics
 * registry and their own /v1 routes, never their objects.
 */
import type { FastifyInstance } from 'fastify';
import type { Plane, PlaneContext } from '../plane.ts';
import { registerEventStream } from './event-stream.ts';
import { registerReadRoutes } from './read-routes.ts';
import { registerStaticRoutes } from './static-routes.ts';

export function createDashboardPlane(context: PlaneContext): Plane {
  return {
    name: 'dashboard',
    registerAdminRoutes(app: FastifyInstance) {
      registerStaticRoutes(app);
      registerReadRoutes(app, context.registry);
      registerEventStream(app, context.registry);
    },
  };
}
