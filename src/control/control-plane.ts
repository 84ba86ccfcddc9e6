/**
 * The command plane inside `keepwire serve`: the store, the dispatcher
 * (waiter registry + delivery), the management routes on the admin listener,
 * the agents listener and the Unix socket, and the sweep.
 *
 * Shutdown: 'accept' ends long-polls and SSE streams and closes both
 * listeners (and unlinks the socket); 'close' closes the store.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { formatListen } from '../config/index.ts';
import type { Plane, PlaneContext } from '../plane.ts';
import { writeAddressFile } from '../server/address-file.ts';
import { explainListenError } from '../server/startup-errors.ts';
import { AuthThrottle } from './auth-throttle.ts';
import { CommandService } from './command-service.ts';
import { ControlMetrics } from './control-metrics.ts';
import { Delivery } from './dispatch/delivery.ts';
import { WaiterRegistry } from './dispatch/waiter-registry.ts';
import { registerAgentRoutes } from './http/agent-routes.ts';
import { createAgentsServer } from './http/agents-server.ts';
import { registerComponentRoutes } from './http/component-routes.ts';
import { registerManagementRoutes } from './http/management-routes.ts';
import { createUnixServer, listenUnix, unlinkSocket } from './http/unix-server.ts';
import { InProcessNotifier } from './notifier.ts';
import { createStore } from './store/store-factory.ts';
import { UuidV7Generator } from './uuid-v7.ts';

export interface ControlPlaneOptions {
  /** The clock every lifecycle time comes from; tests may pass their own. */
  now?: () => number;
}

export function createControlPlane(
  context: PlaneContext,
  options: ControlPlaneOptions = {},
): Plane {
  const { config, lifecycle } = context;
  const logger = context.logger.child({ plane: 'control' });
  const now = options.now ?? Date.now;
  const logError = (error: unknown, what: string) => logger.error({ err: error }, `${what} failed`);
  const ids = new UuidV7Generator(now);
  // Unique per process: a node restarted under the same name must not
  // inherit the claims of its previous life (those lapse with their lease).
  const nodeId = `${hostname()}/${process.pid}/${ids.next()}`;
  const store = createStore(config.store, {
    dataDir: config.dataDir,
    nodeId,
    now,
    logError,
    logInfo: (message) => logger.info(message),
  });
  const notifier = new InProcessNotifier();
  const metrics = new ControlMetrics(context.registry, () => store.countByStatus());
  const registry = new WaiterRegistry(notifier, metrics);
  const delivery = new Delivery({
    store,
    notifier,
    metrics,
    ids,
    now,
    logError,
    logger,
    limits: config.agents,
    lease: { nodeId, leaseMs: config.control.claimLeaseMs },
  });
  const service = new CommandService({
    store,
    notifier,
    metrics,
    ids,
    now,
    defaultTimeoutS: config.control.defaultTimeoutS,
    logger,
  });
  const management = { service, isConnected: (id: string) => registry.hasWaiter(`agent:${id}`) };
  const socketPath = config.socket.path ?? join(config.dataDir, 'keepwire.sock');
  let sweep: NodeJS.Timeout | undefined;

  return {
    name: 'control',
    registerAdminRoutes(app: FastifyInstance) {
      registerManagementRoutes(app, management);
    },
    async start() {
      lifecycle.onShutdown('close', 'command store', () => store.close());
      // Wake-ups from other nodes wake this node's waiters of those targets.
      // After a lost LISTEN connection, token ends may have been missed: re-check open waits.
      await store.start(
        (keys) => notifier.publish(keys),
        () =>
          registry
            .revalidate((hash) => store.findAgentByTokenHash(hash))
            .catch((error) => logError(error, 're-checking the tokens of open waits')),
      );
      delivery.start();
      logger.info({ store: config.store.type, nodeId }, 'command store ready');

      const agents = createAgentsServer(config.agents, logger, context.registry);
      registerAgentRoutes(agents, {
        config: config.agents,
        service,
        registry,
        delivery,
        metrics,
        now,
        throttle: new AuthThrottle({ maxDelayMs: config.agents.authFailureMaxDelayMs, now }),
      });
      const unix = config.socket.enabled
        ? createUnixServer(config.socket, logger, context.registry)
        : undefined;
      let isSocketOurs = false;
      // Registered before listening, so a failed start still closes what did open.
      lifecycle.onShutdown('accept', 'command listeners', async () => {
        clearInterval(sweep);
        delivery.stop();
        registry.closeAll();
        const closing = Promise.all([agents.close(), unix?.close()]);
        // Every wait is answered by now; a connection still open after a short
        // grace (a client mid-upload, a peer that never read its last answer) is cut.
        const grace = setTimeout(() => {
          agents.server.closeAllConnections();
          unix?.server.closeAllConnections();
        }, 1_000);
        await closing;
        clearTimeout(grace);
        if (isSocketOurs) unlinkSocket(socketPath);
      });

      await agents
        .listen({ host: config.agents.listen.host, port: config.agents.listen.port })
        .catch((error: unknown) => {
          throw explainListenError(error, 'the agents listener (--agents, agents.listen)');
        });
      const bound = agents.server.address();
      const address =
        typeof bound === 'object' && bound !== null
          ? { host: bound.address, port: bound.port }
          : config.agents.listen;
      writeAddressFile(config.dataDir, 'agents', address);
      logger.info(
        { agents: formatListen(address), tls: config.agents.tls !== undefined },
        'agents listener ready',
      );

      if (unix) {
        registerManagementRoutes(unix, management);
        registerComponentRoutes(unix, {
          service,
          registry,
          delivery,
          defaultWaitS: config.agents.defaultWaitS,
          maxWaitS: config.agents.maxWaitS,
        });
        await listenUnix(unix, socketPath);
        isSocketOurs = true;
        logger.info({ socket: socketPath }, 'unix socket ready');
      }

      sweep = setInterval(() => {
        registry.sweep();
        service.expire().catch((error) => logError(error, 'expiring commands'));
        service
          .releaseLapsedClaims()
          .catch((error) => logError(error, 'returning lapsed claims to pending'));
      }, config.control.sweepIntervalMs);
      sweep.unref();
    },
  };
}
