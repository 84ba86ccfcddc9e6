/**
 * Framed records packed for another thread: the framing worker hands the
 * records of one chunk to a decode thread (decode-pool.ts) as one
 * transferable buffer of their UTF-8 texts, back to back, with where each
 * ends and the line it starts on, so no record is copied on the thread in
 * between and no string crosses a thread. A record read from a
 * concurrent-mode transaction file keeps that file's path.
 */
import type { FramedRecord } from './record-framer.ts';

export interface RecordBatch {
  /** The records' texts, UTF-8, back to back (memory of its own: transferable). */
  readonly texts: Uint8Array;
  /** Where record i ends in `texts` (it starts where record i - 1 ends). */
  readonly ends: Uint32Array;
  /** The line record i starts on in its input. */
  readonly lines: Uint32Array;
  /** Record i's transaction file, when it has one; undefined when none has. */
  readonly paths?: (string | undefined)[];
}

/** The buffers a batch can hand over without a copy (postMessage's transfer list). */
export function batchTransfer(batch: RecordBatch): ArrayBuffer[] {
  return [batch.texts.buffer, batch.ends.buffer, batch.lines.buffer] as ArrayBuffer[];
}

const MAX_UTF8_PER_UNIT = 3;

/** Packs `records` into a batch (one UTF-8 write per record). */
export function packRecords(records: readonly FramedRecord[]): RecordBatch {
  let room = 0;
  let hasPaths = false;
  for (const record of records) {
    const { text } = record;
    room += typeof text === 'string' ? text.length * MAX_UTF8_PER_UNIT : text.length;
    if (record.path !== undefined) hasPaths = true;
  }
  const texts = Buffer.allocUnsafeSlow(room);
  const ends = new Uint32Array(records.length);
  const lines = new Uint32Array(records.length);
  let at = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    const { text } = record;
    if (typeof text === 'string') at += texts.write(text, at);
    else {
      texts.set(text, at);
      at += text.length;
    }
    ends[i] = at;
    lines[i] = record.line;
  }
  return {
    texts: texts.subarray(0, at),
    ends,
    lines,
    paths: hasPaths ? records.map((record) => record.path) : undefined,
  };
}

/** Calls `each` with every record of `batch`, in order. */
export function forEachRecord(
  batch: RecordBatch,
  each: (text: string, line: number, path: string | undefined) => void,
): void {
  const texts = Buffer.from(batch.texts.buffer, batch.texts.byteOffset, batch.texts.byteLength);
  let start = 0;
  for (let i = 0; i < batch.ends.length; i++) {
    const end = batch.ends[i]!;
    each(texts.toString('utf8', start, end), batch.lines[i]!, batch.paths?.[i]);
    start = end;
  }
}
