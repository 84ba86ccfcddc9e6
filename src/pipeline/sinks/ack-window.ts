/**
 * The window of a sink driver: at most `size` batches taken from the buffer
 * and not yet acknowledged in order. The buffer's durable cursor only moves
 * past a contiguous run of acknowledged batches, so a batch acknowledged
 * ahead of an older one still in flight is sent again after a crash. Without
 * a window, one slow batch (a retry, a slow peer) would let the others run
 * on and pile up behind the cursor, all of them delivered twice after a
 * kill; with it, a crash repeats at most `size` batches (the driver's
 * concurrency): the batches in flight.
 */
export interface WindowEntry {
  isDone: boolean;
}

export class AckWindow {
  readonly #size: number;
  readonly #open: WindowEntry[] = [];
  #waiting: (() => void)[] = [];

  constructor(size: number) {
    this.#size = size;
  }

  /**
   * Waits for room, then holds a place for the next batch the caller reads
   * (taken at once, so callers woken together cannot overfill the window);
   * undefined when `signal` is aborted first.
   */
  async take(signal: AbortSignal): Promise<WindowEntry | undefined> {
    while (this.#open.length >= this.#size) {
      if (signal.aborted) return undefined;
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal.removeEventListener('abort', wake);
          resolve();
        };
        this.#waiting.push(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    }
    const entry: WindowEntry = { isDone: false };
    this.#open.push(entry);
    return entry;
  }

  /** `entry`'s batch is done with (acknowledged, or not read or given up at stop): the window moves past done ones. */
  close(entry: WindowEntry): void {
    entry.isDone = true;
    let moved = false;
    while (this.#open[0]?.isDone) {
      this.#open.shift();
      moved = true;
    }
    if (moved) for (const wake of this.#waiting.splice(0)) wake();
  }
}
