/**
 * The sink driver: the shared half of every sink. It reads batches from the
 * sink's buffer (cut by events, bytes and linger time), keeps up to
 * `concurrency` sends in flight, and acknowledges a batch only once the
 * service delivered it (at-least-once).
 *
 * - Retryable failures (SinkUnavailableError or any unknown error) back off
 *   exponentially with full jitter: wait uniform in [0, min(max, base·2^n)],
 *   and at least the peer's Retry-After. The batch keeps its place: nothing
 *   is acknowledged until it goes through.
 * - SinkRejectedError, and items a service reports in `SendResult.rejected`,
 *   go to the dead-letter file; then the batch is acknowledged and the
 *   pipeline moves on.
 * - stop(): stop reading, give in-flight sends `stopTimeoutMs` to finish
 *   (no new retries start), abort what is left (those batches stay in the
 *   buffer, unacknowledged), close the service.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger, Registry } from '../../telemetry/index.ts';
import type { EventBuffer, ReadBatch, ReadLimits } from '../buffer/buffer.ts';
import { SinkRejectedError, SinkUnavailableError } from '../errors.ts';
import type { SinkBatchOptions, SinkRetryOptions } from './common.ts';
import { type DeadLetter, DeadLetterFile } from './dead-letter.ts';
import type { SinkService } from './service.ts';
import { SinkMetrics } from './sink-metrics.ts';

export interface SinkDriverOptions {
  readonly name: string;
  readonly buffer: EventBuffer;
  readonly service: SinkService;
  readonly concurrency: number;
  readonly batch: SinkBatchOptions;
  readonly retry: SinkRetryOptions;
  readonly deadLetterPath: string;
  readonly registry: Registry;
  readonly logger: Logger;
  /** How long stop() lets in-flight sends finish before aborting them. */
  readonly stopTimeoutMs?: number;
  /** Source of jitter in [0, 1); tests may pin it. */
  readonly random?: () => number;
}

export class SinkDriver {
  readonly #options: SinkDriverOptions;
  readonly #limits: ReadLimits;
  readonly #metrics: SinkMetrics;
  readonly #deadLetters: DeadLetterFile;
  readonly #random: () => number;
  /** Aborted at stop: no more reads, no more backoff waits. */
  readonly #stopping = new AbortController();
  /** Aborted when the stop timeout runs out: in-flight sends end. */
  readonly #sending = new AbortController();
  #workers: Promise<void>[] = [];
  #stopped: Promise<void> | undefined;

  constructor(options: SinkDriverOptions) {
    this.#options = options;
    this.#limits = {
      maxEvents: options.batch.maxEvents,
      maxBytes: options.batch.maxBytes,
      lingerMs: options.batch.lingerMs,
    };
    this.#metrics = new SinkMetrics(options.name, options.registry);
    this.#deadLetters = new DeadLetterFile(options.deadLetterPath, options.name);
    this.#random = options.random ?? Math.random;
  }

  start(): void {
    if (this.#workers.length > 0 || this.#stopping.signal.aborted) return;
    for (let index = 0; index < this.#options.concurrency; index += 1)
      this.#workers.push(this.#work());
  }

  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#stopping.abort(new Error('sink driver stopping'));
      const timeoutMs = this.#options.stopTimeoutMs ?? 10_000;
      const timer = setTimeout(
        () => this.#sending.abort(new Error('sink driver stop timeout')),
        timeoutMs,
      );
      try {
        await Promise.all(this.#workers);
      } finally {
        clearTimeout(timer);
      }
      await this.#options.service.close();
    })();
    return this.#stopped;
  }

  async #work(): Promise<void> {
    const { buffer, logger } = this.#options;
    while (!this.#stopping.signal.aborted) {
      let batch: ReadBatch;
      try {
        batch = await buffer.read(this.#limits, this.#stopping.signal);
      } catch (error) {
        if (!this.#stopping.signal.aborted)
          logger.error({ err: error }, 'sink stopped reading its buffer');
        return;
      }
      // A reader woken with others may find the records taken: nothing to send.
      if (batch.records.length === 0) await buffer.ack(batch);
      else await this.#deliver(batch);
    }
  }

  async #deliver(batch: ReadBatch): Promise<void> {
    const { service, logger, retry } = this.#options;
    const startedAt = performance.now();
    for (let attempt = 0; ; attempt += 1) {
      let retryAfterMs: number | undefined;
      this.#metrics.inFlight.inc();
      try {
        const result = await service.send(batch.records, this.#sending.signal);
        if (result.rejected.length > 0) {
          await this.#deadLetters.write(
            result.rejected.map((item) => ({
              record: batch.records[item.index]!,
              reason: item.reason,
              status: undefined,
              response: undefined,
            })),
          );
          this.#metrics.deadLettered.inc(result.rejected.length);
        }
        await this.#finish(batch, startedAt, batch.records.length - result.rejected.length);
        return;
      } catch (error) {
        if (this.#sending.signal.aborted) return;
        if (error instanceof SinkRejectedError) {
          if (await this.#deadLetterAll(batch, error)) {
            await this.#finish(batch, startedAt, 0);
            return;
          }
        } else {
          retryAfterMs = error instanceof SinkUnavailableError ? error.retryAfterMs : undefined;
          const log = attempt === 0 ? logger.warn.bind(logger) : logger.debug.bind(logger);
          log(
            { err: error, attempt: attempt + 1, events: batch.records.length },
            'batch send failed; retrying',
          );
        }
      } finally {
        this.#metrics.inFlight.dec();
      }
      if (this.#stopping.signal.aborted) return;
      this.#metrics.retries.inc();
      const ceiling = Math.min(
        retry.maxBackoffMs,
        retry.initialBackoffMs * 2 ** Math.min(attempt, 30),
      );
      const delayMs = Math.max(this.#random() * ceiling, retryAfterMs ?? 0);
      try {
        await sleep(delayMs, undefined, { signal: this.#stopping.signal });
      } catch {
        return;
      }
    }
  }

  /** Writes the whole batch to the dead-letter file; false when that failed (the batch is retried). */
  async #deadLetterAll(batch: ReadBatch, error: SinkRejectedError): Promise<boolean> {
    const letters: DeadLetter[] = batch.records.map((record) => ({
      record,
      reason: error.message,
      status: error.status,
      response: error.response,
    }));
    try {
      await this.#deadLetters.write(letters);
    } catch (writeError) {
      this.#options.logger.error(
        { err: writeError, path: this.#deadLetters.path },
        'cannot write the dead-letter file; the refused batch stays in the buffer and is retried',
      );
      return false;
    }
    this.#metrics.deadLettered.inc(letters.length);
    this.#options.logger.warn(
      { err: error, events: letters.length, path: this.#deadLetters.path },
      'batch dead-lettered',
    );
    return true;
  }

  async #finish(batch: ReadBatch, startedAt: number, delivered: number): Promise<void> {
    await this.#options.buffer.ack(batch);
    this.#metrics.eventsSent.inc(delivered);
    this.#metrics.bytesSent.inc(
      delivered === batch.records.length ? batch.bytes : sumBytes(batch, delivered),
    );
    this.#metrics.batchSeconds.observe((performance.now() - startedAt) / 1000);
  }
}

function sumBytes(batch: ReadBatch, delivered: number): number {
  if (delivered === 0) return 0;
  return Math.round((batch.bytes * delivered) / batch.records.length);
}
