/**
 * One record on disk: `u32le length | u32le crc32c(payload) | payload`.
 * `encodeFrames` lays a whole append out in one buffer (one allocation, one
 * write); `parseFrame` reads one frame back and says what it found.
 *
 * A length word with its top bit set (META_FLAG) marks a meta frame: not an
 * event but the buffer's own record (input checkpoints, input-checkpoints.ts),
 * framed and checksummed like an event. Its length is the low 31 bits.
 */
import { BadRequestError } from '../../../errors.ts';
import { crc32c } from './crc32c.ts';

export const FRAME_HEADER_BYTES = 8;
/** A larger length in a header can only be garbage; appends refuse larger records. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;
/** The top bit of a length word: a meta frame. Event lengths never reach it (MAX_RECORD_BYTES). */
export const META_FLAG = 0x8000_0000;

/** One meta frame holding `payload`. */
export function encodeMetaFrame(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  out.writeUInt32LE((META_FLAG | payload.length) >>> 0, 0);
  out.writeUInt32LE(crc32c(payload), 4);
  payload.copy(out, FRAME_HEADER_BYTES);
  return out;
}

export function frameBytes(records: readonly Buffer[]): number {
  let total = 0;
  for (const record of records) total += FRAME_HEADER_BYTES + record.length;
  return total;
}

/**
 * Lays `records` out as frames in `out` (of `total` bytes). A caller that
 * transfers the frames to another thread passes `Buffer.allocUnsafeSlow`
 * memory: the default may be a slice of Node's shared pool.
 */
export function encodeFrames(
  records: readonly Buffer[],
  total: number,
  out: Buffer = Buffer.allocUnsafe(total),
): Buffer {
  let at = 0;
  for (const record of records) {
    out.writeUInt32LE(record.length, at);
    out.writeUInt32LE(crc32c(record), at + 4);
    record.copy(out, at + FRAME_HEADER_BYTES);
    at += FRAME_HEADER_BYTES + record.length;
  }
  return out;
}

/** `encodeFrames` for an append: refuses (BadRequestError) a record above MAX_RECORD_BYTES. */
export function encodeRecords(records: readonly Buffer[]): Buffer {
  for (const record of records) {
    if (record.length > MAX_RECORD_BYTES)
      throw new BadRequestError(
        `an event of ${record.length} bytes is above the limit of ${MAX_RECORD_BYTES} bytes`,
      );
  }
  return encodeFrames(records, frameBytes(records));
}

/** Frames and payload bytes of a run of whole frames. */
export interface FrameRun {
  /** Bytes of the whole frames, headers included. */
  readonly bytes: number;
  readonly events: number;
  readonly payloadBytes: number;
}

/**
 * The longest run of whole frames from the start of `frames` that fits in
 * `maxBytes`, read from the headers only (no CRC: for frames this process
 * laid out with encodeFrames). Throws when a header is not a frame.
 */
export function leadingFrames(frames: Buffer, maxBytes = frames.length): FrameRun {
  let at = 0;
  let events = 0;
  const limit = Math.min(maxBytes, frames.length);
  while (at + FRAME_HEADER_BYTES <= limit) {
    const length = frames.readUInt32LE(at);
    if (length === 0 || length > MAX_RECORD_BYTES)
      throw new Error(`not a frame at byte ${at}: length ${length}`);
    if (at + FRAME_HEADER_BYTES + length > limit) break;
    at += FRAME_HEADER_BYTES + length;
    events += 1;
  }
  return { bytes: at, events, payloadBytes: at - FRAME_HEADER_BYTES * events };
}

/**
 * What sits at `at` in `bytes[0, end)`:
 * - `record`: a whole frame whose CRC matches; `next` is past it.
 * - `corrupt`: a whole frame whose CRC does not match; `next` skips it.
 * - `incomplete`: the frame runs past `end` (a torn tail, or a short read).
 * - `impossible`: a length of 0 or above `maxRecordBytes`: the header itself
 *   is garbage, so nothing after it in the segment can be trusted.
 */
export type FrameKind = 'record' | 'corrupt' | 'incomplete' | 'impossible';

export interface ParsedFrame {
  kind: FrameKind;
  /** Payload length as written in the header (valid for record/corrupt/incomplete). */
  length: number;
  next: number;
  /** A meta frame (META_FLAG), not an event. */
  isMeta?: boolean;
}

/**
 * Parses into a reused object: no allocation per frame on the read path.
 * `isVerified: false` skips the CRC (for frames this process wrote itself).
 */
export function parseFrame(
  bytes: Buffer,
  at: number,
  end: number,
  maxRecordBytes: number,
  out: ParsedFrame,
  isVerified = true,
): ParsedFrame {
  if (end - at < FRAME_HEADER_BYTES) {
    out.kind = 'incomplete';
    out.isMeta = false;
    out.length = 0;
    out.next = at;
    return out;
  }
  const word = bytes.readUInt32LE(at);
  out.isMeta = word >= META_FLAG;
  const length = out.isMeta ? word - META_FLAG : word;
  out.length = length;
  if (length === 0 || length > maxRecordBytes) {
    out.kind = 'impossible';
    out.next = at;
    return out;
  }
  const payloadStart = at + FRAME_HEADER_BYTES;
  if (payloadStart + length > end) {
    out.kind = 'incomplete';
    out.next = at;
    return out;
  }
  out.kind =
    !isVerified || crc32c(bytes, payloadStart, payloadStart + length) === bytes.readUInt32LE(at + 4)
      ? 'record'
      : 'corrupt';
  out.next = payloadStart + length;
  return out;
}

/** The run `frames` holds, which must be exactly `events` whole frames; throws otherwise. */
export function wholeFrames(frames: Buffer, events: number): FrameRun {
  const run = leadingFrames(frames);
  if (run.bytes !== frames.length || run.events !== events)
    throw new Error(
      `appendFrames: ${frames.length} bytes hold ${run.events} whole frames in ${run.bytes} bytes, not ${events} events`,
    );
  return run;
}
