/**
 * Splits a byte stream into NDJSON records with a bounded line length, for
 * the unix, file and stdin sources. A line above the limit is discarded up
 * to its newline; an invalid line is skipped; both are reported through
 * `onReject` and the stream goes on. `consumedBytes` is the offset just past
 * the last newline seen, so a file source can checkpoint whole lines only.
 */
import { isJsonObject } from './json-object-check.ts';

const NEWLINE = 0x0a;

export type LineReject = 'too_large' | 'invalid';

/** Whether a line is an acceptable event; the default is the full JSON object check. */
export type LineCheck = (line: Buffer) => boolean;

export class LineSplitter {
  readonly #maxLineBytes: number;
  readonly #onReject: (reason: LineReject, line: number) => void;
  readonly #isValid: LineCheck;
  #partial: Buffer[] = [];
  #partialBytes = 0;
  #isDiscarding = false;
  #line = 0;
  #pushedBytes = 0;
  /** Offset just past the last newline, counted from the first byte pushed. */
  consumedBytes = 0;

  constructor(
    maxLineBytes: number,
    onReject: (reason: LineReject, line: number) => void,
    isValid: LineCheck = isJsonObject,
  ) {
    this.#maxLineBytes = maxLineBytes;
    this.#onReject = onReject;
    this.#isValid = isValid;
  }

  /** Returns the complete, valid records in `chunk` (and what came before it). */
  push(chunk: Buffer): Buffer[] {
    const records: Buffer[] = [];
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(NEWLINE, start);
      if (end === -1) break;
      this.#line += 1;
      if (this.#isDiscarding) {
        this.#isDiscarding = false;
      } else {
        const line =
          this.#partialBytes > 0
            ? Buffer.concat([...this.#partial, chunk.subarray(start, end)])
            : chunk.subarray(start, end);
        this.#take(line, records);
      }
      this.#partial = [];
      this.#partialBytes = 0;
      this.consumedBytes = this.#pushedBytes + end + 1;
      start = end + 1;
    }
    const rest = chunk.length - start;
    if (rest > 0 && !this.#isDiscarding) {
      if (this.#partialBytes + rest > this.#maxLineBytes) {
        this.#onReject('too_large', this.#line + 1);
        this.#isDiscarding = true;
        this.#partial = [];
        this.#partialBytes = 0;
      } else {
        this.#partial.push(Buffer.from(chunk.subarray(start)));
        this.#partialBytes += rest;
      }
    }
    this.#pushedBytes += chunk.length;
    return records;
  }

  /** Bytes of an unfinished last line, not yet counted as consumed for checkpoints. */
  get pendingBytes(): number {
    return this.#partialBytes;
  }

  /** At end of input: a last line without a newline still counts. */
  end(): Buffer[] {
    const records: Buffer[] = [];
    if (this.#partialBytes > 0 && !this.#isDiscarding) {
      this.#line += 1;
      this.#take(Buffer.concat(this.#partial), records);
    }
    this.#partial = [];
    this.#partialBytes = 0;
    return records;
  }

  #take(raw: Buffer, records: Buffer[]): void {
    let line = raw;
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, -1);
    if (line.length === 0) return;
    if (line.length > this.#maxLineBytes) {
      this.#onReject('too_large', this.#line);
      return;
    }
    if (!this.#isValid(line)) {
      this.#onReject('invalid', this.#line);
      return;
    }
    records.push(line);
  }
}
