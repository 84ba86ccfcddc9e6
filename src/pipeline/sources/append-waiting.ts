/**
 * Appends for sources that can wait (unix, file, standard input): a full
 * buffer (`whenFull: block`) or one that cannot write (a full disk) is
 * waited out for its Retry-After instead of refusing, and an append
 * holding more than the buffer can ever take is split in halves (records, or frames at a frame boundary) until the pieces
 * fit. Rejects only on other errors, or with the signal's reason.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { FRAME_HEADER_BYTES, leadingFrames } from '../buffer/disk/record-frame.ts';
import { ShipAppendTooLargeError, ShipBufferFullError, ShipBufferWriteError } from '../errors.ts';
import type { PipelineMetrics } from '../pipeline-metrics.ts';
import type { AppendRecords } from './source.ts';

/**
 * Appends `part`, waiting out a full buffer for its Retry-After; a part the
 * buffer can never hold is cut in two by `split` and each half appended the
 * same way (undefined from `split`: it cannot be cut, and the error stands).
 */
async function appendWaitingBy<T>(
  append: (part: T) => Promise<void>,
  part: T,
  split: (part: T) => [T, T] | undefined,
  signal: AbortSignal | undefined,
  onFull?: () => void,
): Promise<void> {
  for (;;) {
    try {
      await append(part);
      return;
    } catch (error) {
      const halves = error instanceof ShipAppendTooLargeError ? split(part) : undefined;
      if (halves) {
        for (const half of halves) await appendWaitingBy(append, half, split, signal, onFull);
        return;
      }
      if (!(error instanceof ShipBufferFullError || error instanceof ShipBufferWriteError))
        throw error;
      onFull?.();
      await sleep(error.retryAfterMs, undefined, { signal });
    }
  }
}

function halveRecords(records: readonly Buffer[]): [Buffer[], Buffer[]] | undefined {
  if (records.length < 2) return undefined;
  const half = records.length >> 1;
  return [records.slice(0, half), records.slice(half)];
}

export function appendWaiting(
  append: AppendRecords,
  records: readonly Buffer[],
  signal: AbortSignal | undefined,
  onFull?: () => void,
): Promise<void> {
  return appendWaitingBy(append, records, halveRecords, signal, onFull);
}

/** Frames to append, and the checkpoint (of a file input) they reach, committed with them. */
export interface FramesPart<C = unknown> {
  readonly frames: Buffer;
  readonly events: number;
  readonly checkpoint?: C;
}

/**
 * The first half by bytes (at least the first frame), at a frame boundary,
 * and the rest; the checkpoint goes with the rest, which reaches it.
 */
function halveFrames<C>({ frames, events, checkpoint }: FramesPart<C>) {
  if (events < 2) return undefined;
  const first = leadingFrames(
    frames,
    Math.max(frames.length >> 1, frames.readUInt32LE(0) + FRAME_HEADER_BYTES),
  );
  const halves: [FramesPart<C>, FramesPart<C>] = [
    { frames: frames.subarray(0, first.bytes), events: first.events },
    { frames: frames.subarray(first.bytes), events: events - first.events, checkpoint },
  ];
  return halves;
}

/** `appendWaiting` for frames laid out by encodeFrames (DiskBuffer.appendFrames). */
export function appendFramesWaiting<C>(
  appendFrames: (frames: Buffer, events: number, checkpoint?: C) => Promise<void>,
  part: FramesPart<C>,
  signal: AbortSignal | undefined,
): Promise<void> {
  const append = (piece: FramesPart<C>) =>
    appendFrames(piece.frames, piece.events, piece.checkpoint);
  return appendWaitingBy(append, part, halveFrames, signal);
}

/**
 * `appendWaiting` for a named source, counting each wait as a `buffer_full`
 * reject and, once durable, the events and bytes received.
 */
export async function deliverWaiting(
  source: {
    readonly name: string;
    readonly metrics: PipelineMetrics;
    readonly append: AppendRecords;
  },
  records: readonly Buffer[],
  signal: AbortSignal,
): Promise<void> {
  const { name, metrics } = source;
  await appendWaiting(source.append, records, signal, () =>
    metrics.rejected.inc({ source: name, reason: 'buffer_full' }),
  );
  let bytes = 0;
  for (const record of records) bytes += record.length;
  metrics.received.inc({ source: name }, records.length);
  metrics.receivedBytes.inc({ source: name }, bytes);
}
