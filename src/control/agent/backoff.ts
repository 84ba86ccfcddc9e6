/**
 * Exponential backoff with full jitter: the n-th retry waits a uniformly
 * random time in [0, min(capMs, baseMs * 2^n)], so agents that lost the same
 * server do not come back in step.
 */
export class Backoff {
  readonly #baseMs: number;
  readonly #capMs: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: { baseMs?: number; capMs?: number; random?: () => number } = {}) {
    this.#baseMs = options.baseMs ?? 250;
    this.#capMs = options.capMs ?? 30_000;
    this.#random = options.random ?? Math.random;
  }

  next(): number {
    const ceiling = Math.min(this.#capMs, this.#baseMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt += 1;
    return Math.floor(this.#random() * ceiling);
  }

  reset(): void {
    this.#attempt = 0;
  }
}
