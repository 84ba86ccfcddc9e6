/**
 * The failed state of a disk buffer. A failed write or sync sets it: appends
 * are refused with ShipBufferWriteError (503 + Retry-After at the sources)
 * for `retryAfterMs`, then the next append tries the disk again. The
 * failure is reported once when the buffer goes from healthy to failing,
 * and once when a write succeeds again, so a full disk does not flood the log.
 */
import { ShipBufferWriteError } from '../../errors.ts';

export interface WriteFailureOptions {
  readonly dir: string;
  readonly retryAfterMs: number;
  readonly onWriteError?: (error: Error) => void;
  readonly onWriteRecovered?: () => void;
  /** Milliseconds now; Date.now unless a test steps its own clock. */
  readonly now?: () => number;
}

export class WriteFailure {
  readonly #options: WriteFailureOptions;
  #error: Error | undefined;
  #until = 0;
  #isFailing = false;
  readonly #now: () => number;

  constructor(options: WriteFailureOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Whether a failure may still refuse appends (then ask `refusal()`). */
  get isSet(): boolean {
    return this.#error !== undefined;
  }

  /** Enters the failed state; returns what the appends at hand are refused with. */
  fail(error: Error): ShipBufferWriteError {
    this.#error = error;
    this.#until = this.#now() + this.#options.retryAfterMs;
    if (!this.#isFailing) {
      this.#isFailing = true;
      this.#options.onWriteError?.(error);
    }
    return this.#refused(error, this.#options.retryAfterMs);
  }

  /** The error an append is refused with now; undefined once it is time to try again. */
  refusal(): ShipBufferWriteError | undefined {
    const error = this.#error;
    const leftMs = this.#until - this.#now();
    if (!error || leftMs <= 0) {
      this.#error = undefined;
      return undefined;
    }
    return this.#refused(error, leftMs);
  }

  #refused(error: Error, leftMs: number): ShipBufferWriteError {
    const code = (error as NodeJS.ErrnoException).code;
    const cause =
      code && !error.message.startsWith(code) ? `${code}: ${error.message}` : error.message;
    return new ShipBufferWriteError(
      `disk buffer ${this.#options.dir} cannot write (${cause}); nothing of this append was accepted; retry after ${leftMs} ms${code === 'ENOSPC' ? ', once the disk has room' : ''}`,
      leftMs,
      { cause: error },
    );
  }

  /** A write succeeded: reports the recovery if the buffer was failing. */
  succeeded(): void {
    if (!this.#isFailing) return;
    this.#isFailing = false;
    this.#options.onWriteRecovered?.();
  }
}
