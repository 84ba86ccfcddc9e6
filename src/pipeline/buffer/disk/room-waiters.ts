/**
 * Appends waiting for room in a full buffer (`whenFull: block`), first come
 * first served: an append that finds others waiting queues behind them even
 * if it would fit, so a large append is not starved by small ones. Each wait
 * is bounded (the caller's patience): when it runs out the append is refused
 * with `ShipBufferFullError` and its Retry-After, as before any wait.
 */
import { ShipAppendTooLargeError, ShipBufferFullError } from '../../errors.ts';
export interface RoomWaiter {
  readonly bytes: number;
  admit(): void;
  refuse(): void;
  timer: NodeJS.Timeout | undefined;
}

export class RoomWaiters {
  readonly #waiting: RoomWaiter[] = [];

  get hasWaiters(): boolean {
    return this.#waiting.length > 0;
  }

  /**
   * Waits until `bytes` are admitted, then runs `enter` (which takes the
   * room); rejects with `refusal()` after `timeoutMs` or at refuseAll().
   */
  wait(
    bytes: number,
    timeoutMs: number,
    enter: () => Promise<void>,
    refusal: () => Error,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: RoomWaiter = {
        bytes,
        timer: undefined,
        admit: () => enter().then(resolve, reject),
        refuse: () => reject(refusal()),
      };
      this.#add(waiter, timeoutMs);
    });
  }

  #add(waiter: RoomWaiter, timeoutMs: number): void {
    this.#waiting.push(waiter);
    waiter.timer = setTimeout(() => {
      const index = this.#waiting.indexOf(waiter);
      if (index >= 0) this.#waiting.splice(index, 1);
      waiter.refuse();
    }, timeoutMs);
  }

  /** Admits waiters in order while `fits(bytes)` says they fit. */
  admit(fits: (bytes: number) => boolean): void {
    while (this.#waiting.length > 0 && fits(this.#waiting[0]!.bytes)) {
      const waiter = this.#waiting.shift()!;
      clearTimeout(waiter.timer);
      waiter.admit();
    }
  }

  /** Refuses every waiter (the buffer closes). */
  refuseAll(): void {
    for (const waiter of this.#waiting.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.refuse();
    }
  }
}

/** An append under `block` that no amount of waiting can fit. */
export function appendTooLarge(
  run: { readonly events: number; readonly bytes: number },
  dir: string,
  maxSizeBytes: number,
): ShipAppendTooLargeError {
  return new ShipAppendTooLargeError(
    `${run.events} events (${run.bytes} bytes framed) are more than disk buffer ${dir} can ever hold (maxSizeBytes ${maxSizeBytes}); split the request into smaller ones, or raise the buffer's maxSizeBytes`,
  );
}

/** A wait for room under `block` that ran out. */
export function bufferFull(
  dir: string,
  usedBytes: number,
  maxSizeBytes: number,
  retryAfterMs: number,
): ShipBufferFullError {
  return new ShipBufferFullError(
    `disk buffer ${dir} is full (${usedBytes} of ${maxSizeBytes} bytes) and no room came within ${retryAfterMs} ms; the sink is not keeping up`,
    retryAfterMs,
  );
}
