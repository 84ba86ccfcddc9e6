/**
 * Frames ModSecurity audit logs, detected line by line so one file may
 * mix them:
 * - a JSON record (`SecAuditLogFormat JSON`): one line starting with `{`;
 * - a Native record: from its `A` boundary to its `Z` boundary, v2
 *   (`--xxxxxxxx-A--`) or v3 (`---xxxxxxxx---A--`), the lines between kept
 *   as they are;
 * - a concurrent-mode index line (concurrent-index.ts): the transaction
 *   file it names is read whole as one record.
 *
 * Malformed input is reported through `onMalformed` with its line and the
 * framer goes on: a Native record without its `Z` (the next `A` boundary
 * starts a new record), an index line naming a missing file, a run of lines
 * that are none of the above (binary garbage: reported once per run), a
 * record above `maxRecordBytes`. A truncated JSON line is framed as it is
 * and refused by the decoder. `consumedBytes` only moves past whole
 * records and skipped lines, never into a record.
 */
import { parseBoundary } from '../../codecs/modsecurity/boundary.ts';
import { indexedPath, readIndexedRecord, resolveIndexedPath } from './concurrent-index.ts';
import type { FramedRecord, OnMalformed, RecordFramer } from './record-framer.ts';

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const OPEN_BRACE = 0x7b;
/** Longer lines cannot be a section boundary (ids are 8 characters; parseBoundary allows up to 64). */
const MAX_BOUNDARY_BYTES = 80;

export interface ModsecurityFramerOptions {
  /** Bytes of a whole record (a JSON line, or a Native record from A to Z) at most. */
  readonly maxRecordBytes: number;
  /** Replaces the directory that concurrent-mode index lines name (concurrent-index.ts). */
  readonly storageDir?: string;
  readonly onMalformed: OnMalformed;
}

interface NativeRecord {
  readonly id: string;
  readonly line: number;
  lines: string[];
  bytes: number;
  isTooLarge: boolean;
}

export class ModsecurityFramer implements RecordFramer {
  readonly #options: ModsecurityFramerOptions;
  #partial: Buffer[] = [];
  #partialBytes = 0;
  /** The unterminated line is above the limit: dropped up to its newline. */
  #isDiscardingLine = false;
  #record: NativeRecord | undefined;
  #isInGarbage = false;
  #line = 0;
  #pushedBytes = 0;
  consumedBytes = 0;
  /** Lines before `consumedBytes` (counting from the line `startAt` gave). */
  consumedLines = 0;

  constructor(options: ModsecurityFramerOptions) {
    this.#options = options;
  }

  push(chunk: Buffer): FramedRecord[] {
    const records: FramedRecord[] = [];
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(NEWLINE, start);
      if (end === -1) break;
      this.#line += 1;
      if (this.#isDiscardingLine) this.#isDiscardingLine = false;
      else {
        const line =
          this.#partialBytes > 0
            ? Buffer.concat([...this.#partial, chunk.subarray(start, end)])
            : chunk.subarray(start, end);
        this.#take(line, this.#pushedBytes + end + 1, records);
      }
      this.#partial = [];
      this.#partialBytes = 0;
      start = end + 1;
    }
    const rest = chunk.length - start;
    if (rest > 0 && !this.#isDiscardingLine) {
      this.#partial.push(Buffer.from(chunk.subarray(start)));
      this.#partialBytes += rest;
      this.#checkPartial();
    }
    this.#pushedBytes += chunk.length;
    return records;
  }

  /** Counts lines from `line` (the lines before a resumed input's start); before the first push. */
  startAt(line: number): void {
    this.#line = line;
    this.consumedLines = line;
  }

  /** At the end of the input: a last line without a newline still counts; then it starts afresh. */
  end(): FramedRecord[] {
    const records: FramedRecord[] = [];
    if (this.#partialBytes > 0 && !this.#isDiscardingLine) {
      this.#line += 1;
      this.#take(Buffer.concat(this.#partial), this.#pushedBytes, records);
    }
    if (this.#record) this.#missingEnd(this.#record, 'the input ends');
    this.#record = undefined;
    this.#partial = [];
    this.#partialBytes = 0;
    this.#isDiscardingLine = false;
    this.#isInGarbage = false;
    this.#line = 0;
    this.#pushedBytes = 0;
    this.consumedBytes = 0;
    this.consumedLines = 0;
    return records;
  }

  /** An unterminated line that can no longer fit is dropped up to its newline. */
  #checkPartial(): void {
    const record = this.#record;
    const limit = record?.isTooLarge
      ? MAX_BOUNDARY_BYTES
      : this.#options.maxRecordBytes - (record?.bytes ?? 0);
    if (this.#partialBytes <= limit) return;
    if (record) this.#tooLarge(record);
    else
      this.#malformed(
        'too_large',
        this.#line + 1,
        `a line above ${this.#options.maxRecordBytes} bytes`,
      );
    this.#isDiscardingLine = true;
    this.#partial = [];
    this.#partialBytes = 0;
  }

  #take(raw: Buffer, endOffset: number, records: FramedRecord[]): void {
    if (this.#record === undefined && raw[0] === OPEN_BRACE) {
      // A JSON record, the common case: handed on as bytes, never decoded here.
      this.#consumed(endOffset, this.#line);
      this.#isInGarbage = false;
      const end = raw[raw.length - 1] === CARRIAGE_RETURN ? raw.length - 1 : raw.length;
      records.push({ text: raw.subarray(0, end), line: this.#line });
      return;
    }
    const text = raw.toString('utf8');
    const line = text.endsWith('\r') ? text.slice(0, -1) : text;
    const boundary = line.length <= MAX_BOUNDARY_BYTES ? parseBoundary(line) : undefined;
    const record = this.#record;
    if (record) {
      if (boundary?.id === record.id && boundary.section === 'Z') {
        this.#record = undefined;
        this.#consumed(endOffset, this.#line);
        if (record.isTooLarge) return;
        record.lines.push(line);
        records.push({ text: `${record.lines.join('\n')}\n`, line: record.line });
        return;
      }
      if (boundary?.section === 'A') {
        this.#missingEnd(record, `line ${this.#line} starts another record`);
        this.#consumed(endOffset - raw.length - 1, this.#line - 1);
        this.#open(boundary.id, line);
        return;
      }
      if (record.isTooLarge) return;
      record.bytes += raw.length + 1;
      if (record.bytes > this.#options.maxRecordBytes) this.#tooLarge(record);
      else record.lines.push(line);
      return;
    }
    this.#consumed(endOffset, this.#line);
    if (line.trim() === '') return;
    if (boundary?.section === 'A') {
      this.#isInGarbage = false;
      this.#consumed(endOffset - raw.length - 1, this.#line - 1);
      this.#open(boundary.id, line);
      return;
    }
    if (line.startsWith('{')) {
      this.#isInGarbage = false;
      records.push({ text: line, line: this.#line });
      return;
    }
    const named = indexedPath(line);
    if (named !== undefined) {
      this.#isInGarbage = false;
      const path = resolveIndexedPath(named, this.#options.storageDir);
      const read = readIndexedRecord(path);
      if ('text' in read) records.push({ text: read.text, line: this.#line, path });
      else this.#malformed('missing_file', this.#line, read.problem);
      return;
    }
    if (!this.#isInGarbage) {
      this.#isInGarbage = true;
      this.#malformed(
        'garbage',
        this.#line,
        'neither a JSON record, a Native section boundary nor a concurrent index line',
      );
    }
  }

  #consumed(bytes: number, lines: number): void {
    this.consumedBytes = bytes;
    this.consumedLines = lines;
  }

  #open(id: string, boundary: string): void {
    this.#record = {
      id,
      line: this.#line,
      lines: [boundary],
      bytes: boundary.length + 1,
      isTooLarge: false,
    };
  }

  #tooLarge(record: NativeRecord): void {
    record.isTooLarge = true;
    record.lines = [];
    this.#malformed(
      'too_large',
      record.line,
      `a record above ${this.#options.maxRecordBytes} bytes`,
    );
  }

  #missingEnd(record: NativeRecord, why: string): void {
    if (record.isTooLarge) return;
    this.#malformed('missing_end', record.line, `a Native record without its Z boundary (${why})`);
  }

  #malformed(reason: Parameters<OnMalformed>[0]['reason'], line: number, detail: string): void {
    this.#options.onMalformed({ reason, line, detail });
  }
}
