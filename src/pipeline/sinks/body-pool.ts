/**
 * Request bodies, reused. A fresh 1–4 MB body per batch is memory outside
 * V8's heap that V8 still counts: at ~100 batches a second it ran a full
 * mark-compact every ~60 ms (13 in a 100,000-event `keepwire ship`, 2 with
 * reused bodies; docs/benchmarks.md). A body goes back once its request has
 * ended (response read, or failed), when no socket write can still read it.
 */

/** Bodies below this come from Node's own allocator: too small to matter. */
const MIN_POOLED_BYTES = 64 * 1024;

export class BodyPool {
  readonly #free: Buffer[] = [];
  readonly #maxFree: number;

  constructor(maxFree: number) {
    this.#maxFree = maxFree;
  }

  /** A body of exactly `bytes`, in reused memory when one is free and large enough. */
  acquire(bytes: number): Buffer {
    if (bytes < MIN_POOLED_BYTES) return Buffer.allocUnsafe(bytes);
    const index = this.#free.findIndex((memory) => memory.length >= bytes);
    // Powers of two: batches of varying size still find a spare.
    const memory =
      index >= 0
        ? this.#free.splice(index, 1)[0]!
        : Buffer.allocUnsafeSlow(2 ** Math.ceil(Math.log2(bytes)));
    return memory.subarray(0, bytes);
  }

  /** Gives back a body from `acquire`; it must not be used afterwards. */
  release(body: Buffer): void {
    const memory = Buffer.from(body.buffer, 0, body.buffer.byteLength);
    if (memory.length < MIN_POOLED_BYTES || this.#free.length >= this.#maxFree) return;
    this.#free.push(memory);
  }
}
