/**
 * Appends waiting for room in a full buffer (`whenFull: block`), first come
 * first served: an append that finds others waiting queues behind them even
 * if it would fit, so a large append is not starved by small ones. Each wait
 * is bounded (the caller's patience): when it runs out the append is refused
 * with the buffer's `ShipBufferFullError` and its Retry-After, as before any
 * wait. The size of an append is the buffer's unit: framed bytes for the
 * disk buffer, events for the memory buffer.
 */
export interface RoomWaiter {
  readonly size: number;
  admit(): void;
  refuse(): void;
  timer: NodeJS.Timeout | undefined;
}

export class RoomWaiters {
  readonly #waiting: RoomWaiter[] = [];

  get hasWaiters(): boolean {
    return this.#waiting.length > 0;
  }

  /** Appends waiting now. */
  get count(): number {
    return this.#waiting.length;
  }

  /**
   * Waits until `size` is admitted, then runs `enter` (which takes the
   * room); rejects with `refusal()` after `timeoutMs` or at refuseAll().
   */
  wait(
    size: number,
    timeoutMs: number,
    enter: () => Promise<void>,
    refusal: () => Error,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: RoomWaiter = {
        size,
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

  /** Admits waiters in order while `fits(size)` says they fit. */
  admit(fits: (size: number) => boolean): void {
    while (this.#waiting.length > 0 && fits(this.#waiting[0]!.size)) {
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
