/**
 * Descriptor exhaustion (EMFILE, ENFILE), wherever the process meets it: a
 * listener's accept, the watcher's `ss`, a file opened on a periodic path.
 * It is survived, never thrown: the listener refuses what it cannot accept
 * (libuv accepts and closes them), the watcher skips a sample, and service
 * resumes by itself once descriptors are free again. Each time is counted
 * (keepwire_descriptor_exhaustion_total{where}); one line is logged per
 * minute, however many times it happens, so a flood of connections cannot
 * flood the log too.
 */
import type { Logger, Registry } from '../telemetry/index.ts';
import { LogLimiter } from '../telemetry/log-limiter.ts';
import type { Counter } from '../telemetry/metrics.ts';
import { registeredCounter } from '../telemetry/registered-metric.ts';

const CODES = new Set(['EMFILE', 'ENFILE']);

/** EMFILE or ENFILE when `error` (or one of its causes) is one, else undefined. */
export function descriptorExhaustionCode(error: unknown): string | undefined {
  for (let cause = error, depth = 0; cause && depth < 8; depth++) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && CODES.has(code)) return code;
    cause = (cause as { cause?: unknown }).cause;
  }
  return undefined;
}

export class DescriptorExhaustion {
  readonly #logger: Logger;
  readonly #counter: Counter<'where'>;
  readonly #limiter: LogLimiter;

  constructor(registry: Registry, logger: Logger, intervalMs = 60_000) {
    this.#logger = logger;
    this.#limiter = new LogLimiter(intervalMs);
    this.#counter = registeredCounter(registry, {
      name: 'keepwire_descriptor_exhaustion_total',
      help: 'Times an operation failed with EMFILE or ENFILE (the descriptor limit), by where',
      labelNames: ['where'],
    });
  }

  /** Counts and (at most once a minute) logs `error` when it is exhaustion; says whether it was. */
  report(where: string, error: unknown): boolean {
    const code = descriptorExhaustionCode(error);
    if (code === undefined) return false;
    this.#counter.inc({ where });
    const suppressed = this.#limiter.take('exhaustion');
    if (suppressed !== undefined) {
      this.#logger.error(
        { where, code, suppressed },
        'the descriptor limit is reached: new connections are refused and sampling is skipped until descriptors free up; raise the limit (ulimit -n, LimitNOFILE=) or lower maxConnections on the listeners',
      );
    }
    return true;
  }
}

const shared = new WeakMap<Registry, DescriptorExhaustion>();

/** The one reporter of a registry (one per `serve`), so the whole process logs one line. */
export function descriptorExhaustion(registry: Registry, logger: Logger): DescriptorExhaustion {
  let reporter = shared.get(registry);
  if (!reporter) {
    reporter = new DescriptorExhaustion(registry, logger);
    shared.set(registry, reporter);
  }
  return reporter;
}
