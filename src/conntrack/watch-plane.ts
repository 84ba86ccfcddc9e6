/**
 * The watch plane inside `keepwire serve`: samples on watch.intervalMs,
 * exports metrics, and serves GET /v1/sockets and GET /v1/sockets/findings on
 * the admin listener (which already demands the admin token under /v1/).
 */
import type { FastifyInstance } from 'fastify';
import { BadRequestError } from '../errors.ts';
import type { Plane, PlaneContext } from '../plane.ts';
import { descriptorExhaustion } from '../server/descriptor-exhaustion.ts';
import { WatchNoSamplesError } from './errors.ts';
import { SocketWatcher } from './socket-watcher.ts';
import { GROUP_KEYS, type GroupBy, type SummaryOptions, summarizeSnapshot } from './summary.ts';
import { toTcpState } from './tcp-state.ts';
import { WatchMetrics } from './watch-metrics.ts';

export function createWatchPlane(
  context: PlaneContext,
  options: { procRoot?: string; ssPath?: string } = {},
): Plane {
  const config = context.config.watch;
  const logger = context.logger.child({ plane: 'watch' });
  const metrics = new WatchMetrics(context.registry, { topProcesses: config.topProcesses });
  const exhaustion = descriptorExhaustion(context.registry, logger);
  const watcher = new SocketWatcher(
    config,
    {
      onSample: (snapshot, durationMs) => metrics.recordSample(snapshot, durationMs),
      onError: (error) => {
        metrics.recordError();
        // Counted and logged once a minute: a flood of connections must not flood the log.
        if (exhaustion.report('watch', error)) return;
        logger.error({ err: error, code: error.code }, error.message);
      },
    },
    options,
  );

  return {
    name: 'watch',
    registerAdminRoutes(app: FastifyInstance) {
      app.get('/v1/sockets', async (request) => {
        const latest = watcher.latest;
        if (latest === undefined) throw new WatchNoSamplesError();
        return summarizeSnapshot(latest, parseQuery(request.query as Record<string, string>));
      });
      app.get('/v1/sockets/findings', async () => watcher.findings());
    },
    async start() {
      watcher.start();
      context.lifecycle.onShutdown('accept', 'socket watcher', () => watcher.stop());
      logger.info(
        { intervalMs: config.intervalMs, attribute: config.attribute },
        'socket watcher started',
      );
    },
  };
}

function parseQuery(query: Record<string, string | undefined>): SummaryOptions {
  const options: SummaryOptions = {};
  if (query.by !== undefined) {
    if (!(GROUP_KEYS as readonly string[]).includes(query.by))
      throw new BadRequestError(
        `query "by" must be one of ${GROUP_KEYS.join(', ')}, got "${query.by}"`,
      );
    options.by = query.by as GroupBy;
  }
  if (query.state !== undefined) {
    const state = toTcpState(query.state);
    if (state === undefined)
      throw new BadRequestError(
        `query "state" is not a TCP state: "${query.state}" (try close-wait)`,
      );
    options.state = state;
  }
  for (const key of ['port', 'top'] as const) {
    const raw = query[key];
    if (raw === undefined) continue;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < (key === 'port' ? 0 : 1) || value > 65_535)
      throw new BadRequestError(
        `query "${key}" must be a whole number${key === 'port' ? ' from 0 to 65535' : ' from 1'}, got "${raw}"`,
      );
    options[key] = value;
  }
  return options;
}
