/**
 * Ordered shutdown. Each plane registers its steps in the phase where they
 * belong; `shutdown()` runs the phases in order, the steps of one phase
 * together, each bounded by a timeout so a stuck step cannot hold the process:
 *
 *   accept  stop accepting: listeners, sources, long-polls
 *   drain   drain buffers
 *   flush   flush sinks
 *   close   close pools, stores and sockets
 */
import type { Logger } from './telemetry/index.ts';

export const SHUTDOWN_PHASES = ['accept', 'drain', 'flush', 'close'] as const;
export type ShutdownPhase = (typeof SHUTDOWN_PHASES)[number];

interface Step {
  name: string;
  run: () => Promise<void> | void;
}

export class Lifecycle {
  readonly #steps = new Map<ShutdownPhase, Step[]>();
  readonly #logger: Logger;
  readonly #stepTimeoutMs: number;
  #shutdown: Promise<void> | undefined;

  constructor(logger: Logger, options: { stepTimeoutMs?: number } = {}) {
    this.#logger = logger;
    this.#stepTimeoutMs = options.stepTimeoutMs ?? 10_000;
  }

  get isShuttingDown(): boolean {
    return this.#shutdown !== undefined;
  }

  onShutdown(phase: ShutdownPhase, name: string, run: Step['run']): void {
    const steps = this.#steps.get(phase) ?? [];
    steps.push({ name, run });
    this.#steps.set(phase, steps);
  }

  /** Runs every step once, in phase order; later calls return the same promise. */
  shutdown(reason: string): Promise<void> {
    this.#shutdown ??= this.#run(reason);
    return this.#shutdown;
  }

  async #run(reason: string): Promise<void> {
    this.#logger.info({ reason }, 'shutting down');
    for (const phase of SHUTDOWN_PHASES) {
      const steps = this.#steps.get(phase) ?? [];
      await Promise.all(steps.map((step) => this.#runStep(phase, step)));
    }
    this.#logger.info('shut down');
  }

  async #runStep(phase: ShutdownPhase, step: Step): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(resolve, this.#stepTimeoutMs, 'timeout');
    });
    try {
      const outcome = await Promise.race([Promise.resolve(step.run()), timeout]);
      if (outcome === 'timeout') {
        this.#logger.warn({ phase, step: step.name }, 'shutdown step timed out; going on');
      }
    } catch (error) {
      this.#logger.error({ phase, step: step.name, err: error }, 'shutdown step failed; going on');
    } finally {
      clearTimeout(timer);
    }
  }
}
