/**
 * The watch plane inside `keepwire serve`: samples on watch.intervalMs,
 * exports metrics, and serves GET /v1/sockets, /v1/sockets/findings and /v1/sockets/history on
 * the admin listener (which already demands the admin token under /v1/), all from memory.
 */
import type { FastifyInstance } from 'fastify';
import { BadRequestError } from '../errors.ts';
import type { Plane, PlaneContext } from '../plane.ts';
import { descriptorExhaustion } from '../server/descriptor-exhaustion.ts';
import type { Logger } from '../telemetry/index.ts';
import { SocketWatcher } from './socket-watcher.ts';
import { GROUP_KEYS, type GroupBy, type SummaryOptions } from './summary.ts';
import { toTcpState } from './tcp-state.ts';
import { errorCode, WatchMetrics } from './watch-metrics.ts';
import type { WatchSample } from './watch-sampler.ts';

export function createWatchPlane(
  context: PlaneContext,
  options: { procRoot?: string; ssPath?: string } = {},
): Plane {
  const config = context.config.watch;
  const logger = context.logger.child({ plane: 'watch' });
  const metrics = new WatchMetrics(context.registry, { topProcesses: config.topProcesses });
  const exhaustion = descriptorExhaustion(context.registry, logger);
  const fallback = new FallbackLog(logger);
  const watcher = new SocketWatcher(
    config,
    {
      onSample: (sample, durationMs) => {
        metrics.recordSample(sample, durationMs);
        fallback.observe(sample);
      },
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
      // Every answer comes from memory: the latest sample, its findings, the history.
      app.get('/v1/sockets', async (request) => {
        const summary = watcher.summary(parseQuery(request.query as Record<string, string>));
        const { sample, durationMs } = watcher.latestSample!;
        const { findings, samples, spanMs } = watcher.findings();
        return {
          ...summary,
          findings,
          sample: {
            kind: sample.fresh === undefined ? 'full' : 'light',
            backend: sample.snapshot.source,
            durationMs: Math.round(durationMs * 10) / 10,
            failures: sample.failures.map(({ backend, error }) => ({
              backend,
              code: errorCode(error),
              message: (error as Error)?.message ?? String(error),
            })),
            attribution: sample.attribution ?? null,
          },
          history: { samples, spanMs, intervalMs: config.intervalMs },
        };
      });
      app.get('/v1/sockets/findings', async () => watcher.findings());
      app.get('/v1/sockets/history', async () => ({
        intervalMs: config.intervalMs,
        capacity: config.historySamples,
        samples: watcher.history.map((entry) => ({
          takenAt: new Date(entry.takenAt).toISOString(),
          total: entry.total,
          states: entry.states,
        })),
      }));
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

/**
 * One log line when the watcher starts answering from a fallback backend
 * (netlink failed, /proc answered), and one when the preferred backend
 * answers again; never one per sample. The metrics count every sample.
 */
class FallbackLog {
  readonly #logger: Logger;
  #fallenBack = false;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  observe(sample: WatchSample): void {
    const source = sample.snapshot.source;
    const [first] = sample.failures;
    if (first !== undefined && !this.#fallenBack) {
      this.#fallenBack = true;
      this.#logger.warn(
        { from: first.backend, to: source, code: errorCode(first.error), err: first.error },
        `socket watcher: the ${first.backend} backend failed, sampling from ${source} until it answers again (keepwire_watch_backend_failures_total counts each sample)`,
      );
    } else if (first === undefined && this.#fallenBack) {
      this.#fallenBack = false;
      this.#logger.info({ backend: source }, `socket watcher: sampling from ${source} again`);
    }
  }
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
