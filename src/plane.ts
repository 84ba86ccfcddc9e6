import type { FastifyInstance } from 'fastify';
import type { Config } from './config/index.ts';
import type { Lifecycle } from './lifecycle.ts';
import type { Logger, Registry } from './telemetry/index.ts';

/** What `main.ts` hands every plane: nothing global, everything passed in. */
export interface PlaneContext {
  readonly config: Readonly<Config>;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly lifecycle: Lifecycle;
}

/**
 * A plane as `main.ts` wires it. It registers its own shutdown steps on the
 * lifecycle when it starts; it never reaches into another plane.
 */
export interface Plane {
  readonly name: string;
  /** Adds the plane's routes to the admin listener, before it listens. */
  registerAdminRoutes?(app: FastifyInstance): void;
  /** Starts the plane's own work once the admin listener is up. */
  start?(): Promise<void>;
}
