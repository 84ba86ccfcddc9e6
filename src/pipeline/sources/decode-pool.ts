/**
 * Decodes ModSecurity records on several threads at once, for `keepwire
 * ship --from modsecurity`: the framing worker (frame-worker.ts) finds where
 * records end, which has to go in input order on one thread, and hands each
 * chunk's records on packed (framing/record-batch.ts); this pool gives each
 * batch to the thread with the fewest batches in hand (decode-thread.ts),
 * which decodes, serializes and lays out the disk-buffer frames, and
 * transfers them back. Both hand-overs move memory, no copy.
 *
 * Order: each batch's promise resolves with its own frames; the caller
 * appends chunks in input order whatever order the threads finish in
 * (stream-input.ts awaits its queue front to back), so events and file
 * checkpoints keep the input's order.
 *
 * Failure: a thread that throws or exits fails the whole pool
 * (DecodeThreadError, SHIP_DECODE_THREAD_FAILED): every batch in hand and
 * every later one is refused, so nothing after the failed batch is
 * appended and the input's checkpoint stays before it. What was appended
 * stays in the buffer and is delivered; a run with the same data directory
 * reads on from the checkpoint. Retrying the batch on a fresh thread is not
 * done: a record that crashes one thread would crash the next.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { DecodeThreadError } from '../errors.ts';
import type { Framed } from './frame-worker.ts';
import { batchTransfer, type RecordBatch } from './framing/record-batch.ts';
import type { InputReject } from './framing/record-framer.ts';

/** Decode threads when none are configured: one per core the process may use. */
export function defaultDecodeThreads(): number {
  return availableParallelism();
}

export interface DecodeRequest {
  readonly id: number;
  readonly batch: RecordBatch;
}

export interface DecodeReply {
  readonly id: number;
  readonly frames: Uint8Array;
  readonly events: number;
  readonly rejects: InputReject[];
}

export interface DecodePoolOptions {
  readonly threads: number;
  /** The thread's module; the default is decode-thread beside this module. */
  readonly threadUrl?: URL;
}

/** The thread's module next to this one, as sources (.ts) or as the build (.js). */
const THREAD_URL = new URL(
  import.meta.url.endsWith('.ts') ? './decode-thread.ts' : './decode-thread.js',
  import.meta.url,
);

interface Thread {
  readonly worker: Worker;
  inHand: number;
}

interface Waiting {
  readonly thread: Thread;
  resolve(framed: Framed): void;
  reject(error: Error): void;
}

export class DecodePool {
  readonly #threads: Thread[] = [];
  readonly #waiting = new Map<number, Waiting>();
  #nextId = 0;
  #failure: Error | undefined;
  #isClosed = false;

  constructor(options: DecodePoolOptions) {
    if (!Number.isInteger(options.threads) || options.threads < 1)
      throw new RangeError(`a decode pool needs 1 thread or more, got ${options.threads}`);
    for (let index = 0; index < options.threads; index++) {
      const worker = new Worker(options.threadUrl ?? THREAD_URL);
      const thread: Thread = { worker, inHand: 0 };
      worker.on('message', (reply: DecodeReply) => this.#settle(thread, reply));
      worker.on('error', (error) =>
        this.#fail(new DecodeThreadError(`a decode thread failed: ${error.message}`, error)),
      );
      worker.on('exit', (code) => {
        if (!this.#isClosed)
          this.#fail(new DecodeThreadError(`a decode thread exited with code ${code}`));
      });
      this.#threads.push(thread);
    }
  }

  get threads(): number {
    return this.#threads.length;
  }

  /** The frames of `batch`'s events (its buffers are handed to the thread: do not use them after). */
  decode(batch: RecordBatch): Promise<Framed> {
    if (this.#failure) return Promise.reject(this.#failure);
    let thread = this.#threads[0]!;
    for (const other of this.#threads) if (other.inHand < thread.inHand) thread = other;
    const id = this.#nextId++;
    thread.inHand += 1;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { thread, resolve, reject });
      thread.worker.postMessage({ id, batch } satisfies DecodeRequest, batchTransfer(batch));
    });
  }

  /** Stops every thread; batches still in hand are refused. */
  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#fail(new DecodeThreadError('the decode pool is closed'));
    await Promise.all(this.#threads.map((thread) => thread.worker.terminate()));
  }

  #settle(thread: Thread, reply: DecodeReply): void {
    const waiting = this.#waiting.get(reply.id);
    if (!waiting) return; // refused already: the pool failed or closed
    this.#waiting.delete(reply.id);
    thread.inHand -= 1;
    const { buffer, byteOffset, byteLength } = reply.frames;
    waiting.resolve({
      frames: Buffer.from(buffer, byteOffset, byteLength),
      events: reply.events,
      rejects: reply.rejects,
    });
  }

  #fail(error: DecodeThreadError): void {
    this.#failure ??= error;
    for (const waiting of this.#waiting.values()) waiting.reject(this.#failure);
    this.#waiting.clear();
  }
}
