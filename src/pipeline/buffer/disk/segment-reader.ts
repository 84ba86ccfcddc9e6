/**
 * The read side of a disk buffer: a position (segment, offset) that walks
 * the segments frame by frame, never past the end of the completed writes.
 * Reads are synchronous and sized to one batch: the bytes were just written
 * and sit in the page cache, and a synchronous read cannot interleave with
 * another reader. Records are slices of one read buffer (no copy per record).
 * CRCs are checked for segments recovered at start-up; frames this process
 * wrote itself are read back from the page cache without a second CRC pass
 * (recovery checks them all after a restart).
 *
 * Read-through tail cache: the buffer hands each completed write's frames to
 * `remember`, and a read at a remembered position takes a view of those
 * bytes instead of reading the file, so a sink that keeps up never reads
 * back what was just written (no read, no copy). The file stays the truth:
 * what is not (or no longer) remembered is read from it. Meta frames (input
 * checkpoints, input-checkpoints.ts) are passed over: they are not events.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { Cursor } from './ledger.ts';
import { FRAME_HEADER_BYTES, type ParsedFrame, parseFrame } from './record-frame.ts';
import { type SegmentState, segmentPath } from './recovery.ts';

export interface ReaderBatch {
  readonly records: Buffer[];
  readonly bytes: number;
  /** Corrupt frames skipped on the way (counted as drops). */
  readonly corrupt: number;
}

interface Limits {
  readonly maxEvents: number;
  readonly maxBytes: number;
}

const MIN_READ_BYTES = 64 * 1024;

/** The frames of one completed write, at `offset` in segment `segment`. */
interface CachedWrite {
  readonly segment: number;
  readonly offset: number;
  readonly bytes: Buffer;
}

export class SegmentReader {
  readonly #dir: string;
  readonly #maxRecordBytes: number;
  readonly #frame: ParsedFrame = { kind: 'incomplete', length: 0, next: 0 };
  #segment: number;
  #offset: number;
  #fd: number | undefined;
  #fdSegment = -1;
  readonly #cacheMaxBytes: number;
  #cache: CachedWrite[] = [];
  #cachedBytes = 0;

  /** Segments from this id on were written by this process: no CRC check on read. */
  trustedFrom = Number.POSITIVE_INFINITY;

  constructor(dir: string, maxRecordBytes: number, start: Cursor, cacheMaxBytes = 0) {
    this.#dir = dir;
    this.#cacheMaxBytes = cacheMaxBytes;
    this.#maxRecordBytes = maxRecordBytes;
    this.#segment = start.segment;
    this.#offset = start.offset;
  }

  get position(): Cursor {
    return { segment: this.#segment, offset: this.#offset };
  }

  read(limits: Limits, segments: readonly SegmentState[], end: Cursor): ReaderBatch {
    const records: Buffer[] = [];
    let bytes = 0;
    let corrupt = 0;
    while (records.length < limits.maxEvents) {
      const size = this.#settle(segments, end);
      if (size === undefined) break;
      const isVerified = this.#segment < this.trustedFrom;
      const want = Math.max(
        MIN_READ_BYTES,
        limits.maxBytes - bytes + FRAME_HEADER_BYTES * (limits.maxEvents - records.length),
      );
      const chunk = this.#readAt(Math.min(want, size - this.#offset), FRAME_HEADER_BYTES);
      let at = 0;
      let isBatchDone = false;
      while (records.length < limits.maxEvents) {
        const frame = parseFrame(
          chunk,
          at,
          chunk.length,
          this.#maxRecordBytes,
          this.#frame,
          isVerified,
        );
        if (frame.isMeta && (frame.kind === 'record' || frame.kind === 'corrupt')) {
          // The buffer's own record (input checkpoints), not an event: passed over.
        } else if (frame.kind === 'record') {
          if (records.length > 0 && bytes + frame.length > limits.maxBytes) {
            isBatchDone = true;
            break;
          }
          records.push(chunk.subarray(at + FRAME_HEADER_BYTES, frame.next));
          bytes += frame.length;
        } else if (frame.kind === 'corrupt') {
          corrupt += 1;
        } else if (frame.kind === 'impossible') {
          // Recovery truncates these; one can only appear if the file changed
          // under us. Skip the rest of the segment, as recovery would.
          corrupt += 1;
          this.#offset = size;
          at = 0;
          break;
        } else {
          if (at === 0 && frame.length === 0) {
            // Not even a header before the end of the written data: cannot
            // happen with whole-frame writes; skip rather than spin.
            corrupt += 1;
            this.#offset = size;
          } else if (at === 0) {
            // A single record larger than this read: read exactly it.
            const whole = this.#readAt(
              Math.min(frame.length + FRAME_HEADER_BYTES, size - this.#offset),
              0,
            );
            const parsed = parseFrame(
              whole,
              0,
              whole.length,
              this.#maxRecordBytes,
              this.#frame,
              isVerified,
            );
            if (parsed.isMeta && (parsed.kind === 'record' || parsed.kind === 'corrupt')) {
              at = parsed.next;
            } else if (
              parsed.kind === 'record' &&
              (records.length === 0 || bytes + parsed.length <= limits.maxBytes)
            ) {
              records.push(whole.subarray(FRAME_HEADER_BYTES, parsed.next));
              bytes += parsed.length;
              at = parsed.next;
            } else if (parsed.kind === 'record') {
              isBatchDone = true;
            } else {
              corrupt += 1;
              this.#offset = size;
            }
          }
          break;
        }
        at = frame.next;
      }
      this.#offset += at;
      if (isBatchDone || bytes >= limits.maxBytes) break;
    }
    this.#settle(segments, end);
    return { records, bytes, corrupt };
  }

  /** Skips unread frames until at least `bytes` of frames are passed. Returns what was skipped. */
  skip(
    bytes: number,
    segments: readonly SegmentState[],
    end: Cursor,
  ): { events: number; bytes: number } {
    let events = 0;
    let payload = 0;
    let passed = 0;
    while (passed < bytes) {
      if (this.#settle(segments, end) === undefined) break;
      const batch = this.read({ maxEvents: 1, maxBytes: 1 }, segments, end);
      events += batch.records.length;
      payload += batch.bytes;
      passed += batch.bytes + FRAME_HEADER_BYTES * batch.records.length;
      if (batch.records.length === 0 && batch.corrupt === 0) break;
    }
    return { events, bytes: payload };
  }

  /**
   * Moves past the end of finished segments; returns the readable size of
   * the current one, or undefined when nothing is left to read.
   */
  #settle(segments: readonly SegmentState[], end: Cursor): number | undefined {
    for (;;) {
      if (this.#segment === end.segment) {
        return this.#offset < end.offset ? end.offset : undefined;
      }
      const segment = segments.find((s) => s.id === this.#segment);
      if (segment && this.#offset < segment.size) return segment.size;
      const next = segments.find((s) => s.id > this.#segment);
      if (!next) return undefined;
      this.#segment = next.id;
      this.#offset = 0;
    }
  }

  /** Keeps the frames of a completed write (at `offset` of `segment`) for reads to come. */
  remember(segment: number, offset: number, bytes: Buffer): void {
    if (bytes.length > this.#cacheMaxBytes) return;
    this.#cache.push({ segment, offset, bytes });
    this.#cachedBytes += bytes.length;
    while (this.#cachedBytes > this.#cacheMaxBytes) this.#forgetFirst();
  }

  /** remember() for pieces written back to back, the last ending at `end`. */
  rememberPieces(segment: number, end: number, pieces: readonly Buffer[]): void {
    let offset = end;
    for (const piece of pieces) offset -= piece.length;
    for (const piece of pieces) {
      this.remember(segment, offset, piece);
      offset += piece.length;
    }
  }

  #forgetFirst(): void {
    this.#cachedBytes -= this.#cache.shift()!.bytes.length;
  }

  /** A view of remembered bytes at the current position, or undefined. */
  #fromCache(length: number): Buffer | undefined {
    while (this.#cache.length > 0) {
      const first = this.#cache[0]!;
      const isBehind =
        first.segment < this.#segment ||
        (first.segment === this.#segment && first.offset + first.bytes.length <= this.#offset);
      if (!isBehind) break;
      this.#forgetFirst();
    }
    const first = this.#cache[0];
    if (!first || first.segment !== this.#segment || first.offset > this.#offset) return undefined;
    const from = this.#offset - first.offset;
    return first.bytes.subarray(from, Math.min(first.bytes.length, from + length));
  }

  #readAt(length: number, minimum: number): Buffer {
    const cached = this.#fromCache(length);
    if (cached) return cached;
    if (this.#fdSegment !== this.#segment) {
      this.#closeFile();
      this.#fd = openSync(segmentPath(this.#dir, this.#segment), 'r');
      this.#fdSegment = this.#segment;
    }
    const chunk = Buffer.allocUnsafe(Math.max(length, minimum));
    const read = readSync(this.#fd!, chunk, 0, length, this.#offset);
    return chunk.subarray(0, read);
  }

  close(): void {
    this.#cache = [];
    this.#cachedBytes = 0;
    this.#closeFile();
  }

  #closeFile(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    this.#fdSegment = -1;
  }
}
