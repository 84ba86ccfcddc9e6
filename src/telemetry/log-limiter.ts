/**
 * At most one log line per key and interval, for events an outsider can cause
 * by the thousand (clients leaving mid-body, descriptor exhaustion): the first
 * one is logged, the rest are counted and the count goes with the next line.
 */
export class LogLimiter {
  readonly #intervalMs: number;
  readonly #lastAt = new Map<string, number>();
  readonly #suppressed = new Map<string, number>();

  constructor(intervalMs = 60_000) {
    this.#intervalMs = intervalMs;
  }

  /**
   * Whether to log this one now: the number of events left unlogged since the
   * last line (0 or more), or undefined to stay quiet.
   */
  take(key: string, now = Date.now()): number | undefined {
    const last = this.#lastAt.get(key);
    if (last !== undefined && now - last < this.#intervalMs) {
      this.#suppressed.set(key, (this.#suppressed.get(key) ?? 0) + 1);
      return undefined;
    }
    const suppressed = this.#suppressed.get(key) ?? 0;
    this.#lastAt.set(key, now);
    this.#suppressed.delete(key);
    return suppressed;
  }
}
