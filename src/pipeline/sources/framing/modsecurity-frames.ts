/**
 * The framing worker's ModSecurity path (frame-thread.ts): the same
 * surface as the NDJSON WasmFramer (`push`, `end`, `pushRead`, each giving
 * disk-buffer frames), with ModSecurity audit records framed and decoded
 * into normalized events (modsecurity-decoding.ts) on the worker thread, so
 * the thread that runs the sink only appends frames.
 */
import { encodeFrames, frameBytes } from '../../buffer/disk/record-frame.ts';
import { ModsecurityDecoding } from './modsecurity-decoding.ts';
import type { InputReject } from './record-framer.ts';

export interface FramedEvents {
  /** Disk-buffer frames of the events, in memory of their own (transferable). */
  readonly frames: Buffer;
  readonly events: number;
  readonly rejects: InputReject[];
}

export class ModsecurityFrames {
  readonly #decoding: ModsecurityDecoding;
  #rejects: InputReject[] = [];

  constructor(maxRecordBytes: number, storageDir: string | undefined) {
    this.#decoding = new ModsecurityDecoding({
      maxRecordBytes,
      storageDir,
      onMalformed: ({ reason, line, detail }) => this.#rejects.push([reason, line, detail]),
    });
  }

  push(chunk: Uint8Array): FramedEvents {
    return this.#frame(
      this.#decoding.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)),
    );
  }

  end(): FramedEvents {
    return this.#frame(this.#decoding.end());
  }

  /** Counts lines from `line` (a resumed input), before the first push. */
  startAt(line: number): void {
    this.#decoding.startAt(line);
  }

  /** The record boundary the frames so far reach: bytes pushed before it, and lines. */
  consumed(): { bytes: number; lines: number } {
    return { bytes: this.#decoding.consumedBytes, lines: this.#decoding.consumedLines };
  }

  /** `push` of what `read` puts in a view of `maxBytes`; undefined when it read nothing. */
  pushRead(
    maxBytes: number,
    read: (into: Uint8Array) => number,
  ): { framed: FramedEvents; bytes: number } | undefined {
    const into = Buffer.allocUnsafe(maxBytes);
    const bytes = read(into);
    if (bytes === 0) return undefined;
    return { framed: this.push(into.subarray(0, bytes)), bytes };
  }

  #frame(events: readonly Buffer[]): FramedEvents {
    const total = frameBytes(events);
    const frames = encodeFrames(events, total, Buffer.allocUnsafeSlow(total));
    // The framer's findings come while framing, the decoder's after: in line order again.
    const rejects = this.#rejects.sort((a, b) => a[1] - b[1]);
    this.#rejects = [];
    return { frames, events: events.length, rejects };
  }
}
