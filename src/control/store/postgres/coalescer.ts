/**
 * Group commit for hot statements: calls that arrive while one batch is in
 * flight wait and go together in the next one. An idle node pays nothing
 * (a lone call is sent at once, alone); a burst (a group command waking
 * thousands of agents on one node, then their re-polls) becomes a few
 * statements instead of thousands queued for a handful of pooled
 * connections. At most one batch per coalescer is in flight.
 */
export class Coalescer<I, O> {
  readonly #run: (items: I[]) => Promise<O[]>;
  readonly #maxBatch: number;
  #queue: { item: I; resolve(value: O): void; reject(error: unknown): void }[] = [];
  #isFlushing = false;

  /** run answers one output per item, in order. */
  constructor(run: (items: I[]) => Promise<O[]>, maxBatch = 5_000) {
    this.#run = run;
    this.#maxBatch = maxBatch;
  }

  call(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (!this.#isFlushing) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#isFlushing = true;
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      try {
        const outputs = await this.#run(batch.map((entry) => entry.item));
        for (const [i, entry] of batch.entries()) entry.resolve(outputs[i]!);
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      }
    }
    this.#isFlushing = false;
  }
}
