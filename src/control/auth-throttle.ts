/**
 * Slows repeated token failures from one address: the n-th failure in a row
 * is answered after min(maxDelayMs, 50 ms * 2^(n-2)) (the first at once).
 * Memory is bounded: at most `maxAddresses` entries, the oldest dropped
 * first; an address forgiven after 10 minutes without failures or on success.
 */
const FORGIVE_MS = 10 * 60_000;

export class AuthThrottle {
  readonly #failures = new Map<string, { count: number; lastAt: number }>();
  readonly #maxDelayMs: number;
  readonly #maxAddresses: number;
  readonly #now: () => number;

  constructor(options: { maxDelayMs: number; maxAddresses?: number; now?: () => number }) {
    this.#maxDelayMs = options.maxDelayMs;
    this.#maxAddresses = options.maxAddresses ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** Records a failure; returns how long to wait before answering it. */
  fail(address: string): number {
    const now = this.#now();
    const entry = this.#failures.get(address);
    const count = entry !== undefined && now - entry.lastAt < FORGIVE_MS ? entry.count + 1 : 1;
    this.#failures.delete(address);
    if (this.#failures.size >= this.#maxAddresses) {
      const oldest = this.#failures.keys().next().value;
      if (oldest !== undefined) this.#failures.delete(oldest);
    }
    this.#failures.set(address, { count, lastAt: now });
    return count < 2 ? 0 : Math.min(this.#maxDelayMs, 50 * 2 ** (count - 2));
  }

  succeed(address: string): void {
    if (this.#failures.size > 0) this.#failures.delete(address);
  }

  get size(): number {
    return this.#failures.size;
  }
}
