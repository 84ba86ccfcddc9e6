/**
 * The shipping history behind GET /v1/pipeline/history: every interval the
 * pipeline's counters are read back from the registry (from memory, as for
 * GET /v1/pipeline) and kept in a ring of `capacity` samples, so the
 * dashboard's rate chart has the last hour as soon as it opens, and a script
 * can compute rates without polling. It samples on the watcher's cadence
 * (`watch.intervalMs`, `watch.historySamples`): one clock for every chart.
 */
import type { PipelineView } from './read-routes.ts';

export interface PipelineSample {
  takenAt: string;
  /** Counters since start, per source: events received and refused. */
  sources: Record<string, { received: number; rejected: number }>;
  /** Counters since start, per sink: events delivered, dead-lettered, dropped; events buffered now. */
  sinks: Record<
    string,
    { sent: number; deadLettered: number; dropped: number; bufferEvents: number }
  >;
}

export interface PipelineHistoryView {
  intervalMs: number;
  capacity: number;
  samples: PipelineSample[];
}

export class PipelineHistory {
  readonly #read: () => Promise<PipelineView>;
  readonly #intervalMs: number;
  readonly #capacity: number;
  readonly #samples: PipelineSample[] = [];
  readonly #onError: (error: unknown) => void;
  #timer: NodeJS.Timeout | undefined;
  #taking: Promise<void> | undefined;

  constructor(
    read: () => Promise<PipelineView>,
    options: { intervalMs: number; capacity: number; onError: (error: unknown) => void },
  ) {
    this.#read = read;
    this.#intervalMs = options.intervalMs;
    this.#capacity = options.capacity;
    this.#onError = options.onError;
  }

  /** Takes a first sample now, then one per interval (never two at once). */
  start(): void {
    if (this.#timer) return;
    this.#tick();
    this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#taking;
  }

  view(): PipelineHistoryView {
    return { intervalMs: this.#intervalMs, capacity: this.#capacity, samples: [...this.#samples] };
  }

  /** One sample, read from the registry. */
  async take(): Promise<void> {
    const pipeline = await this.#read();
    const sample: PipelineSample = { takenAt: new Date().toISOString(), sources: {}, sinks: {} };
    for (const s of pipeline.sources)
      sample.sources[s.source] = { received: s.received, rejected: s.rejected };
    for (const s of pipeline.sinks)
      sample.sinks[s.sink] = {
        sent: s.sent,
        deadLettered: s.deadLettered,
        dropped: s.dropped,
        bufferEvents: s.bufferEvents,
      };
    this.#samples.push(sample);
    if (this.#samples.length > this.#capacity) this.#samples.shift();
  }

  #tick(): void {
    if (this.#taking) return;
    this.#taking = this.take()
      .catch(this.#onError)
      .finally(() => {
        this.#taking = undefined;
      });
  }
}
