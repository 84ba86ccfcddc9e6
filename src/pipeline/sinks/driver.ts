/**
 * The sink driver: the shared half of every sink. It reads batches from the
 * sink's buffer (cut by events, bytes and linger time), keeps up to
 * `concurrency` sends in flight, and acknowledges a batch only once every
 * item of it was delivered or dead-lettered (at-least-once). It takes a new
 * batch only while fewer than `concurrency` are unacknowledged in order
 * (ack-window.ts), so a crash sends again at most the batches in flight.
 *
 * - A send answers item by item (SendResult): items not named were
 *   delivered, `rejected` ones go to the dead-letter file, `retry` ones are
 *   sent again, alone, after a backoff (Vector's RetryPartial). The batch
 *   keeps its place in the buffer until nothing of it is left to send.
 * - Retryable failures of a whole send (SinkUnavailableError or any unknown
 *   error) resend what was left, after a backoff: exponential with full
 *   jitter, uniform in [0, min(max, base·2^n)], and at least the peer's
 *   Retry-After. n counts the sends of this batch that left something over.
 * - SinkRejectedError dead-letters what was left; then the batch is
 *   acknowledged and the pipeline moves on.
 * - A dead-letter file that cannot be written keeps its items to send: they
 *   are refused again and written again, never dropped.
 * - The send, the dead-letter write and the acknowledgement fail apart:
 *   only a failed send is retried; a dead-letter write that fails keeps its
 *   items to send; a failed acknowledgement is counted and logged, never a
 *   reason to send a delivered batch again.
 * - stop(): stop reading, give in-flight sends `stopTimeoutMs` to finish
 *   (no new retries start), abort what is left (those batches stay in the
 *   buffer, unacknowledged, and go out whole on the next start), close the
 *   service.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger, Registry } from '../../telemetry/index.ts';
import type { EventBuffer, ReadBatch, ReadLimits } from '../buffer/buffer.ts';
import { retryAfterOf, SinkRejectedError } from '../errors.ts';
import { AckWindow } from './ack-window.ts';
import type { SinkBatchOptions, SinkRetryOptions } from './common.ts';
import { type DeadLetter, DeadLetterFile } from './dead-letter.ts';
import type { SendResult, SinkService } from './service.ts';
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

/** What a driver has done since it started: for summaries (`keepwire ship`). */
export interface DeliveryCounts {
  /** Items the peer took, `alreadyPresent` included. */
  delivered: number;
  /** Delivered items the peer already had (a `_bulk` create answered 409). */
  alreadyPresent: number;
  deadLettered: number;
  /** Items sent again after a failure of their own or of their whole send. */
  retried: number;
}

const NOTHING: readonly Buffer[] = Object.freeze([]);

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
  readonly #counts: DeliveryCounts = {
    delivered: 0,
    alreadyPresent: 0,
    deadLettered: 0,
    retried: 0,
  };
  #workers: Promise<void>[] = [];
  #stopped: Promise<void> | undefined;
  readonly #window: AckWindow;

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
    this.#window = new AckWindow(options.concurrency);
  }

  get counts(): Readonly<DeliveryCounts> {
    return this.#counts;
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
      const entry = await this.#window.take(this.#stopping.signal);
      if (!entry) return;
      let batch: ReadBatch;
      try {
        batch = await buffer.read(this.#limits, this.#stopping.signal);
      } catch (error) {
        this.#window.close(entry);
        if (!this.#stopping.signal.aborted)
          logger.error({ err: error }, 'sink stopped reading its buffer');
        return;
      }
      try {
        // A reader woken with others may find the records taken: nothing to send.
        if (batch.records.length === 0) await buffer.ack(batch);
        else await this.#deliver(batch);
      } finally {
        this.#window.close(entry);
      }
    }
  }

  async #deliver(batch: ReadBatch): Promise<void> {
    const { service, logger, retry } = this.#options;
    const startedAt = performance.now();
    let pending = batch.records;
    for (let attempt = 0; ; attempt += 1) {
      let retryAfterMs: number | undefined;
      // Only the send is retried: the acknowledgement of a batch that went
      // out happens after this try, so a failed one never resends it.
      let isDone = false;
      this.#metrics.inFlight.inc();
      try {
        const result = await service.send(pending, this.#sending.signal);
        const left = await this.#settle(
          pending,
          pending === batch.records ? batch.bytes : -1,
          result,
        );
        isDone = left.length === 0;
        if (!isDone) {
          if (attempt === 0 || left.length !== pending.length)
            logger.debug(
              { attempt: attempt + 1, sent: pending.length, retrying: left.length },
              'some items of the batch will be sent again',
            );
          pending = left;
          retryAfterMs = result.retryAfterMs;
        }
      } catch (error) {
        if (this.#sending.signal.aborted) return;
        if (error instanceof SinkRejectedError) {
          isDone = await this.#deadLetterAll(pending, error);
        } else {
          retryAfterMs = retryAfterOf(error);
          const log = attempt === 0 ? logger.warn.bind(logger) : logger.debug.bind(logger);
          log(
            { err: error, attempt: attempt + 1, events: pending.length },
            'batch send failed; retrying',
          );
        }
      } finally {
        this.#metrics.inFlight.dec();
      }
      if (isDone) {
        await this.#finish(batch, startedAt, attempt + 1);
        return;
      }
      if (this.#stopping.signal.aborted) return;
      this.#metrics.retries.inc();
      this.#metrics.eventsRetried.inc(pending.length);
      this.#counts.retried += pending.length;
      const ceiling = Math.min(
        retry.maxBackoffMs,
        retry.initialBackoffMs * 2 ** Math.min(attempt, 30),
      );
      const delayMs = Math.max(this.#random() * ceiling, retryAfterMs ?? 0);
      logger.debug(
        { attempt: attempt + 2, events: pending.length, delayMs: Math.round(delayMs) },
        'batch to be sent again',
      );
      try {
        await sleep(delayMs, undefined, { signal: this.#stopping.signal });
      } catch {
        return;
      }
    }
  }

  /**
   * Counts what a send delivered, dead-letters what it rejected, and returns
   * what is left to send (`NOTHING` when done). `sentBytes`: the records'
   * total when known, else -1.
   */
  async #settle(
    sent: readonly Buffer[],
    sentBytes: number,
    result: SendResult,
  ): Promise<readonly Buffer[]> {
    const { rejected } = result;
    const retry = result.retry ?? [];
    const alreadyPresent = result.alreadyPresent ?? 0;
    this.#counts.alreadyPresent += alreadyPresent;
    this.#metrics.alreadyPresent.inc(alreadyPresent);
    if (rejected.length === 0 && retry.length === 0) {
      this.#delivered(sent.length, sentBytes >= 0 ? sentBytes : sumBytes(sent));
      return NOTHING;
    }
    const left = retry.map((index) => sent[index]!);
    if (rejected.length > 0) {
      const letters: DeadLetter[] = rejected.map((item) => ({
        record: sent[item.index]!,
        reason: item.reason,
        status: item.status,
        response: item.response,
      }));
      if (await this.#writeDeadLetters(letters)) {
        this.#counts.deadLettered += letters.length;
        this.#metrics.deadLettered.inc(letters.length);
      } else {
        for (const item of rejected) left.push(sent[item.index]!);
      }
    }
    let bytes = sentBytes >= 0 ? sentBytes : sumBytes(sent);
    for (const index of retry) bytes -= sent[index]!.length;
    for (const item of rejected) bytes -= sent[item.index]!.length;
    this.#delivered(sent.length - retry.length - rejected.length, bytes);
    return left;
  }

  #delivered(events: number, bytes: number): void {
    this.#counts.delivered += events;
    this.#metrics.eventsSent.inc(events);
    this.#metrics.bytesSent.inc(bytes);
  }

  /** Writes the rest of a batch to the dead-letter file; false when that failed (it is retried). */
  async #deadLetterAll(records: readonly Buffer[], error: SinkRejectedError): Promise<boolean> {
    const letters: DeadLetter[] = records.map((record) => ({
      record,
      reason: error.message,
      status: error.status,
      response: error.response,
    }));
    if (!(await this.#writeDeadLetters(letters))) return false;
    this.#counts.deadLettered += letters.length;
    this.#metrics.deadLettered.inc(letters.length);
    this.#options.logger.warn(
      { err: error, events: letters.length, path: this.#deadLetters.path },
      'batch dead-lettered',
    );
    return true;
  }

  async #writeDeadLetters(letters: readonly DeadLetter[]): Promise<boolean> {
    try {
      await this.#deadLetters.write(letters);
      return true;
    } catch (writeError) {
      this.#options.logger.error(
        { err: writeError, path: this.#deadLetters.path },
        'cannot write the dead-letter file; the refused events stay in the buffer and are sent again',
      );
      return false;
    }
  }

  /**
   * Acknowledges a batch that was delivered or dead-lettered. A failed
   * acknowledgement is not a failed send: the batch is not sent again now
   * (it may be after a restart, as any batch in flight at a crash).
   */
  async #finish(batch: ReadBatch, startedAt: number, attempts: number): Promise<void> {
    const seconds = (performance.now() - startedAt) / 1000;
    this.#metrics.batchSeconds.observe(seconds);
    try {
      await this.#options.buffer.ack(batch);
    } catch (error) {
      this.#metrics.ackErrors.inc();
      this.#options.logger.error(
        { err: error, events: batch.records.length },
        'acknowledging a delivered batch failed; it is not sent again now, but may be after a restart',
      );
      return;
    }
    this.#options.logger.debug(
      {
        events: batch.records.length,
        bytes: batch.bytes,
        attempts,
        ms: Math.round(seconds * 1000),
      },
      'batch sent',
    );
  }
}

function sumBytes(records: readonly Buffer[]): number {
  let bytes = 0;
  for (const record of records) bytes += record.length;
  return bytes;
}
