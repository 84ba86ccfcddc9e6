/**
 * Takes the CPU work of reading NDJSON off the calling thread, for `keepwire
 * ship`: a worker thread (frame-thread.ts) splits the input into lines,
 * checks every line (the full JSON object check costs more than everything
 * else a ship run does), and lays the valid lines out as disk-buffer frames,
 * CRC32C included, so this thread only appends frames
 * (DiskBuffer.appendFrames) and runs the sink. Files are read by the worker
 * itself (`frameFile`); chunks read here (standard input) are copied to it
 * (`frame`), answered in the order they are sent, several at once.
 * ModSecurity records are decoded on the worker too, or, given a decode
 * pool, framed there and decoded on the pool's threads in parallel (the
 * framed promise of a chunk then waits for its batch).
 */
import { Worker } from 'node:worker_threads';
import type { DecodePool } from './decode-pool.ts';
import type { RecordBatch } from './framing/record-batch.ts';
import type { InputReject } from './framing/record-framer.ts';

export interface FrameWorkerOptions {
  readonly maxLineBytes: number;
  /** `json`: every line must be a JSON object; `shape`: `{`…`}` and UTF-8 only (NDJSON input). */
  readonly check: 'json' | 'shape';
  /**
   * What the input is: NDJSON lines (the default), or ModSecurity audit
   * logs (serial JSON or Native, concurrent index files), framed and
   * decoded into normalized events on the worker; `maxLineBytes` then
   * bounds a whole record.
   */
  readonly from?: 'ndjson' | 'modsecurity';
  /** modsecurity: replaces the directory concurrent index lines name. */
  readonly storageDir?: string;
  /** modsecurity: records are framed only and handed back packed (set when a decode pool is given). */
  readonly isDecodedElsewhere?: boolean;
}

/**
 * To the worker: a chunk of input, or (nothing set) the end of one input
 * (its last line without a newline); or a file to read and frame itself
 * (`file`, `chunkBytes`, `credits`: replies it may send before more credit),
 * more credit, or the cancellation of that file.
 */
export interface FrameRequest {
  readonly chunk?: Uint8Array;
  readonly file?: string;
  readonly chunkBytes?: number;
  readonly credits?: number;
  /** `file`: where to start (a record boundary an earlier run checkpointed) and its line number. */
  readonly start?: FileCheckpoint;
  readonly isCancel?: boolean;
}

/** A place in a file at a record boundary: its byte offset and the lines before it. */
export interface FileCheckpoint {
  readonly offset: number;
  readonly line: number;
}

export interface FrameReply {
  /** The frames of the valid lines completed by this chunk, ready for appendFrames. */
  readonly frames: Uint8Array;
  readonly events: number;
  /** Lines or records skipped, with why, their line number in the input and what was wrong. */
  readonly rejects: InputReject[];
  /** isDecodedElsewhere: the records still to decode (`frames` is then empty). */
  readonly records?: RecordBatch;
  /** Reading a file: the input bytes this reply covers; the last reply of the file is marked. */
  readonly inputBytes?: number;
  /** Reading a file: the record boundary its frames so far reach (every record before it framed or skipped). */
  readonly checkpoint?: FileCheckpoint;
  readonly isLast?: boolean;
}

/** From the worker: a reply, a file that could not be read, or a cancellation done. */
type WorkerMessage = FrameReply | { error: string; code?: string } | { isCancelled: true };

/** One chunk of an input, framed (or being framed), and the input bytes it covers. */
export interface FramedInput {
  readonly framed: Promise<Framed>;
  readonly inputBytes: number;
  /** A file's record boundary once these frames are appended (undefined for standard input). */
  readonly checkpoint?: FileCheckpoint;
}

export interface Framed {
  readonly frames: Buffer;
  readonly events: number;
  readonly rejects: readonly InputReject[];
}

/** The worker's module next to this one, as sources (.ts) or as the build (.js). */
const THREAD_URL = new URL(
  import.meta.url.endsWith('.ts') ? './frame-thread.ts' : './frame-thread.js',
  import.meta.url,
);

export class FrameWorker {
  readonly #worker: Worker;
  readonly #decodePool: DecodePool | undefined;
  readonly #waiting: {
    resolve(framed: Framed | Promise<Framed>): void;
    reject(error: Error): void;
  }[] = [];
  /** The file being read by the worker: its replies, and who waits for them. */
  #file: { readonly replies: WorkerMessage[]; wake: () => void } | undefined;
  /** A file was abandoned: its replies still on the way are dropped until the worker confirms. */
  #isCancelling = false;
  #failure: Error | undefined;
  #isClosed = false;

  /** `decodePool`: ModSecurity records are decoded there, not on the framing worker. */
  constructor(options: FrameWorkerOptions, decodePool?: DecodePool) {
    this.#decodePool = options.from === 'modsecurity' ? decodePool : undefined;
    this.#worker = new Worker(THREAD_URL, {
      workerData: { ...options, isDecodedElsewhere: this.#decodePool !== undefined },
    });
    this.#worker.on('message', (message: WorkerMessage) => {
      if (this.#isCancelling) {
        if ('isCancelled' in message) this.#isCancelling = false;
        return;
      }
      if (this.#file) {
        this.#file.replies.push(message);
        this.#file.wake();
        return;
      }
      this.#waiting.shift()?.resolve(this.#framed(message as FrameReply));
    });
    this.#worker.on('error', (error) => this.#fail(error));
    this.#worker.on('exit', (code) => {
      if (!this.#isClosed) this.#fail(new Error(`the framing worker exited with code ${code}`));
    });
  }

  /** Frames the lines `chunk` completes (its bytes are copied to the worker). */
  frame(chunk: Uint8Array): Promise<Framed> {
    const owned = new Uint8Array(chunk);
    return this.#request({ chunk: owned }, [owned.buffer as ArrayBuffer]);
  }

  /** Ends one input: frames its last line if it had no newline, and starts afresh for the next. */
  end(): Promise<Framed> {
    return this.#request({}, []);
  }

  /**
   * The file at `path` read and framed by the worker itself, straight into
   * its wasm memory (no read or copy on this thread), in `chunkBytes`
   * reads, at most `ahead` chunks before they are taken; then the end of
   * the input. Stopping early cancels the rest. One input at a time.
   * `start`: from that record boundary on (a resumed input).
   */
  async *frameFile(
    path: string,
    chunkBytes: number,
    ahead: number,
    start: FileCheckpoint = { offset: 0, line: 0 },
  ): AsyncGenerator<FramedInput> {
    if (this.#failure) throw this.#failure;
    const file = { replies: [] as WorkerMessage[], wake: () => {} };
    this.#file = file;
    this.#worker.postMessage({
      file: path,
      chunkBytes,
      credits: ahead,
      start,
    } satisfies FrameRequest);
    let isDone = false;
    try {
      for (;;) {
        while (file.replies.length === 0) {
          if (this.#failure) throw this.#failure;
          await new Promise<void>((resolve) => {
            file.wake = resolve;
          });
        }
        const message = file.replies.shift()!;
        if ('error' in message) {
          isDone = true;
          throw Object.assign(new Error(`cannot read ${path}: ${message.error}`), {
            code: message.code,
          });
        }
        const reply = message as FrameReply;
        isDone = reply.isLast === true;
        yield {
          framed: this.#framed(reply),
          inputBytes: reply.inputBytes ?? 0,
          checkpoint: reply.checkpoint,
        };
        if (isDone) return;
        this.#worker.postMessage({ credits: 1 } satisfies FrameRequest);
      }
    } finally {
      this.#file = undefined;
      if (!isDone && !this.#failure) {
        this.#isCancelling = true;
        this.#worker.postMessage({ isCancel: true } satisfies FrameRequest);
      }
    }
  }

  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#fail(new Error('the framing worker is closed'));
    await this.#worker.terminate();
  }

  /** A reply's frames; packed records are decoded by the pool first. */
  #framed(reply: FrameReply): Promise<Framed> {
    const { records } = reply;
    if (records === undefined) return Promise.resolve(framed(reply));
    return this.#decodePool!.decode(records).then((decoded) => ({
      ...decoded,
      rejects: inLineOrder(reply.rejects, decoded.rejects),
    }));
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
    this.#file?.wake();
  }
}

function framed(reply: FrameReply): Framed {
  const { buffer, byteOffset, byteLength } = reply.frames;
  return {
    frames: Buffer.from(buffer, byteOffset, byteLength),
    events: reply.events,
    rejects: reply.rejects,
  };
}

/** The framer's findings and the decoder's, in line order (as one thread reports them). */
function inLineOrder(framing: readonly InputReject[], decoding: readonly InputReject[]) {
  if (framing.length === 0) return decoding;
  if (decoding.length === 0) return framing;
  return [...framing, ...decoding].sort((a, b) => a[1] - b[1]);
}
