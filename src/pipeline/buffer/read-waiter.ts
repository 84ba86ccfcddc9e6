/**
 * The waiting half of `EventBuffer.read`, shared by the memory and disk
 * buffers: wait until a record exists, then linger up to `lingerMs` for more
 * unless the batch is already full, or the input has ended (`endLinger()`:
 * then what is there goes at once). Appends call `wake()`; `close()` rejects
 * every waiter. One pending timer and one promise per waiting reader.
 */
import type { ReadLimits } from './buffer.ts';

interface Waiting {
  resolve: () => void;
}

export class ReadWaiter {
  readonly #waiting = new Set<Waiting>();
  #closedWith: Error | undefined;
  #isLingering = true;

  wake(): void {
    for (const waiting of this.#waiting) waiting.resolve();
  }

  /** No more input is coming soon: readers stop lingering for more records, now and from now on. */
  endLinger(): void {
    this.#isLingering = false;
    this.wake();
  }

  close(error: Error): void {
    this.#closedWith = error;
    this.wake();
  }

  async waitFor(
    hasData: () => boolean,
    limits: ReadLimits,
    signal: AbortSignal,
    isFull: () => boolean,
  ): Promise<void> {
    while (!hasData()) {
      this.#check(signal);
      await this.#next(signal, undefined);
    }
    if (limits.lingerMs <= 0 || isFull()) return;
    const deadline = Date.now() + limits.lingerMs;
    while (this.#isLingering && !isFull()) {
      this.#check(signal);
      const left = deadline - Date.now();
      if (left <= 0) return;
      await this.#next(signal, left);
    }
  }

  #check(signal: AbortSignal): void {
    if (signal.aborted) throw signal.reason;
    if (this.#closedWith) throw this.#closedWith;
  }

  #next(signal: AbortSignal, timeoutMs: number | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const waiting: Waiting = {
        resolve: () => {
          this.#waiting.delete(waiting);
          clearTimeout(timer);
          signal.removeEventListener('abort', waiting.resolve);
          resolve();
        },
      };
      this.#waiting.add(waiting);
      signal.addEventListener('abort', waiting.resolve, { once: true });
      if (timeoutMs !== undefined) timer = setTimeout(waiting.resolve, timeoutMs);
    });
  }
}
