/**
 * The framing worker's ModSecurity path (frame-thread.ts): the same
 * surface as the NDJSON WasmFramer (`push`, `end`, `pushRead`, each giving
 * disk-buffer frames), with ModSecurity audit records framed and decoded
 * into normalized events on the worker thread, so the thread that runs the
 * sink only appends frames. With `isDecodedElsewhere`, records are framed
 * only and handed on packed (record-batch.ts) for a decode pool's threads
 * (decode-pool.ts), which lay out the frames in parallel.
 */
import { EventFrameWriter } from './event-frame-writer.ts';
import { encodeRecord } from './modsecurity-decoding.ts';
import { ModsecurityFramer } from './modsecurity-framer.ts';
import { packRecords, type RecordBatch } from './record-batch.ts';
import {
  type FramedRecord,
  type InputReject,
  type OnMalformed,
  recordText,
} from './record-framer.ts';

export interface FramedEvents {
  /** Disk-buffer frames of the events, in memory of their own (transferable). */
  readonly frames: Buffer;
  readonly events: number;
  /** The framer's findings, and the decoder's when it ran here, in line order. */
  readonly rejects: InputReject[];
  /** isDecodedElsewhere: the records, still to be decoded into frames (then `frames` is empty). */
  readonly records?: RecordBatch;
}

const NO_FRAMES = Buffer.alloc(0);

export class ModsecurityFrames {
  readonly #framer: ModsecurityFramer;
  readonly #writer: EventFrameWriter | undefined;
  readonly #onMalformed: OnMalformed;
  #rejects: InputReject[] = [];
  #readBuffer: Buffer = NO_FRAMES;

  constructor(maxRecordBytes: number, storageDir: string | undefined, isDecodedElsewhere = false) {
    this.#onMalformed = ({ reason, line, detail }) => this.#rejects.push([reason, line, detail]);
    this.#framer = new ModsecurityFramer({
      maxRecordBytes,
      storageDir,
      onMalformed: this.#onMalformed,
    });
    this.#writer = isDecodedElsewhere ? undefined : new EventFrameWriter();
  }

  push(chunk: Uint8Array): FramedEvents {
    return this.#frame(
      this.#framer.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)),
    );
  }

  end(): FramedEvents {
    return this.#frame(this.#framer.end());
  }

  /** Counts lines from `line` (a resumed input), before the first push. */
  startAt(line: number): void {
    this.#framer.startAt(line);
  }

  /** The record boundary the frames so far reach: bytes pushed before it, and lines. */
  consumed(): { bytes: number; lines: number } {
    return { bytes: this.#framer.consumedBytes, lines: this.#framer.consumedLines };
  }

  /**
   * `push` of what `read` puts in a view of `maxBytes`; undefined when it
   * read nothing. The read buffer is the same from read to read: nothing
   * keeps a view of it past `push` (the framer copies an unfinished line,
   * records are decoded or packed before it returns), and fresh memory for
   * every megabyte read cost its page faults, about 2 µs per record here.
   */
  pushRead(
    maxBytes: number,
    read: (into: Uint8Array) => number,
  ): { framed: FramedEvents; bytes: number } | undefined {
    if (this.#readBuffer.length !== maxBytes) this.#readBuffer = Buffer.allocUnsafeSlow(maxBytes);
    const into = this.#readBuffer;
    const bytes = read(into);
    if (bytes === 0) return undefined;
    return { framed: this.push(into.subarray(0, bytes)), bytes };
  }

  #frame(records: readonly FramedRecord[]): FramedEvents {
    const writer = this.#writer;
    let framed: { frames: Buffer; events: number; records?: RecordBatch };
    if (writer) {
      for (const record of records) {
        const { line, path } = record;
        const event = encodeRecord(recordText(record), line, path, this.#onMalformed);
        if (event !== undefined) writer.add(event);
      }
      framed = writer.take();
    } else {
      framed = { frames: NO_FRAMES, events: 0, records: packRecords(records) };
    }
    // The framer's findings come while framing, the decoder's after: in line order again.
    const rejects = this.#rejects.sort((a, b) => a[1] - b[1]);
    this.#rejects = [];
    return { ...framed, rejects };
  }
}
