/**
 * Takes the CPU work of reading NDJSON off the calling thread, for `keepwire
 * ship`: a worker thread (frame-thread.ts) splits each chunk into lines,
 * checks every line (the full JSON object check costs more than everything
 * else a ship run does), and lays the valid lines out as disk-buffer frames,
 * CRC32C included, so this thread only reads input and appends frames
 * (DiskBuffer.appendFrames). Chunks are answered in the order they are sent;
 * several may be with the worker at once.
 */
import { Worker } from 'node:worker_threads';
import type { LineReject } from './line-splitter.ts';

export interface FrameWorkerOptions {
  readonly maxLineBytes: number;
  /** `json`: every line must be a JSON object; `shape`: `{`…`}` and UTF-8 only. */
  readonly check: 'json' | 'shape';
}

/** A chunk of input, or (no chunk) the end of one input: its last line without a newline. */
export interface FrameRequest {
  readonly chunk?: Uint8Array;
}

export interface FrameReply {
  /** The frames of the valid lines completed by this chunk, ready for appendFrames. */
  readonly frames: Uint8Array;
  readonly events: number;
  /** Lines skipped, with why and their line number in the input. */
  readonly rejects: [LineReject, number][];
  /** The chunk's memory, given back for another read. */
  readonly spare?: ArrayBuffer;
}

export interface Framed {
  readonly frames: Buffer;
  readonly events: number;
  readonly rejects: readonly [LineReject, number][];
}

/** Spare chunks kept: the chunks in flight, and one more. */
const MAX_SPARES = 8;

/** The worker's module next to this one, as sources (.ts) or as the build (.js). */
const THREAD_URL = new URL(
  import.meta.url.endsWith('.ts') ? './frame-thread.ts' : './frame-thread.js',
  import.meta.url,
);

export class FrameWorker {
  readonly #worker: Worker;
  readonly #waiting: { resolve(framed: Framed): void; reject(error: Error): void }[] = [];
  /** Chunk memory back from the worker: reading into it again spares page faults and GC work. */
  readonly #spares: ArrayBuffer[] = [];
  #failure: Error | undefined;
  #isClosed = false;

  constructor(options: FrameWorkerOptions) {
    this.#worker = new Worker(THREAD_URL, { workerData: options });
    this.#worker.on('message', (reply: FrameReply) => {
      if (reply.spare && this.#spares.length < MAX_SPARES) this.#spares.push(reply.spare);
      const { buffer, byteOffset, byteLength } = reply.frames;
      this.#waiting.shift()?.resolve({
        frames: Buffer.from(buffer, byteOffset, byteLength),
        events: reply.events,
        rejects: reply.rejects,
      });
    });
    this.#worker.on('error', (error) => this.#fail(error));
    this.#worker.on('exit', (code) => {
      if (!this.#isClosed) this.#fail(new Error(`the framing worker exited with code ${code}`));
    });
  }

  /** Memory for the next chunk to read and transfer: a spare one back from the worker, or new. */
  chunkBuffer(bytes: number): Buffer {
    const index = this.#spares.findIndex((spare) => spare.byteLength >= bytes);
    if (index < 0) return Buffer.allocUnsafeSlow(bytes);
    return Buffer.from(this.#spares.splice(index, 1)[0]!, 0, bytes);
  }

  /**
   * Frames the lines `chunk` completes. With `transfer`, the chunk's whole
   * ArrayBuffer moves to the worker (and is detached here): only for memory
   * nobody else uses or reuses. Else the chunk's bytes are copied.
   */
  frame(chunk: Uint8Array, transfer: boolean): Promise<Framed> {
    const owned = transfer ? chunk : new Uint8Array(chunk);
    return this.#request({ chunk: owned }, [owned.buffer as ArrayBuffer]);
  }

  /** Ends one input: frames its last line if it had no newline, and starts afresh for the next. */
  end(): Promise<Framed> {
    return this.#request({}, []);
  }

  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#fail(new Error('the framing worker is closed'));
    await this.#worker.terminate();
  }

  #request(request: FrameRequest, transfer: ArrayBuffer[]): Promise<Framed> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#worker.postMessage(request, transfer);
    });
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(this.#failure);
  }
}
