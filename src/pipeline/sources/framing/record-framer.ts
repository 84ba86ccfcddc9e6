/**
 * The framing step of a source: where a record ends, apart from what it
 * means (the decoding step after it), as Vector splits framers from
 * decoders. A framer is fed the bytes of one input in order and hands back
 * whole records; `consumedBytes` is the offset just past the last whole
 * record (or skipped line), so a source checkpoints at record boundaries
 * only and a restart resumes at the next whole record.
 */

/**
 * One whole record as framed: its text and the line it starts on in the
 * input. A JSON line is handed on as its UTF-8 bytes (a view of the chunk
 * pushed, valid until the next push), not decoded into a string here:
 * the next step either copies the bytes on to a decode thread as they are
 * or decodes them once itself (recordText).
 */
export interface FramedRecord {
  readonly text: string | Buffer;
  /** Line number (from 1) in the input where the record starts (for an indexed record: its index line). */
  readonly line: number;
  /** The file the record was read from when it is not the input itself (a concurrent-mode transaction file). */
  readonly path?: string;
}

/** A record's text as a string. */
export function recordText(record: FramedRecord): string {
  return typeof record.text === 'string' ? record.text : record.text.toString('utf8');
}

/** Why a framer or a decoder skipped input (a superset of LineSplitter's LineReject). */
export type MalformedReason = 'missing_end' | 'missing_file' | 'garbage' | 'too_large' | 'invalid';

/** A skipped piece of input: why, where, and what was wrong in words. */
export interface MalformedRecord {
  readonly reason: MalformedReason;
  readonly line: number;
  readonly detail: string;
}

export type OnMalformed = (problem: MalformedRecord) => void;

/** What a source needs of a framer. */
export interface RecordFramer {
  /** The records `chunk` completes (with what came before it). */
  push(chunk: Buffer): FramedRecord[];
  /** At the end of the input: what a last unterminated line completes. */
  end(): FramedRecord[];
  /** Offset just past the last whole record or skipped line, from the first byte pushed. */
  readonly consumedBytes: number;
}

/** A skipped piece of input as the framing worker reports it: why, its line, and in words. */
export type InputReject = [reason: MalformedReason, line: number, detail?: string];
