/**
 * Appends for sources that can wait (unix, file, standard input): a full
 * buffer (`whenFull: block`) is waited out for its Retry-After instead of
 * refusing. After a refusal the append is split in halves, so a chunk holding
 * more events than the buffer can ever take still goes through, piece by
 * piece. Rejects only on other errors, or with the signal's reason.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { FRAME_HEADER_BYTES, leadingFrames } from '../buffer/disk/record-frame.ts';
import { ShipAppendTooLargeError, ShipBufferFullError } from '../errors.ts';
import type { PipelineMetrics } from '../pipeline-metrics.ts';
import type { AppendRecords } from './source.ts';

export async function appendWaiting(
  append: AppendRecords,
  records: readonly Buffer[],
  signal: AbortSignal | undefined,
  onFull?: () => void,
): Promise<void> {
  try {
    await append(records);
    return;
  } catch (error) {
    // More than the buffer can ever hold: split at once (one event alone
    // that can never fit is an error for the caller).
    if (error instanceof ShipAppendTooLargeError && records.length > 1) {
      const half = records.length >> 1;
      await appendWaiting(append, records.slice(0, half), signal, onFull);
      await appendWaiting(append, records.slice(half), signal, onFull);
      return;
    }
    if (!(error instanceof ShipBufferFullError)) throw error;
    onFull?.();
    await sleep(error.retryAfterMs, undefined, { signal });
  }
  if (records.length === 1) return appendWaiting(append, records, signal, onFull);
  const half = records.length >> 1;
  await appendWaiting(append, records.slice(0, half), signal, onFull);
  await appendWaiting(append, records.slice(half), signal, onFull);
}

/**
 * `appendWaiting` for frames laid out by encodeFrames (DiskBuffer.appendFrames):
 * waits out a full buffer, and splits an append larger than the buffer can
 * ever hold at a frame boundary.
 */
export async function appendFramesWaiting(
  appendFrames: (frames: Buffer, events: number) => Promise<void>,
  frames: Buffer,
  events: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  for (;;) {
    try {
      await appendFrames(frames, events);
      return;
    } catch (error) {
      if (error instanceof ShipAppendTooLargeError && events > 1) {
        // The first half by bytes, and at least the first frame.
        const first = leadingFrames(
          frames,
          Math.max(frames.length >> 1, frames.readUInt32LE(0) + FRAME_HEADER_BYTES),
        );
        await appendFramesWaiting(
          appendFrames,
          frames.subarray(0, first.bytes),
          first.events,
          signal,
        );
        await appendFramesWaiting(
          appendFrames,
          frames.subarray(first.bytes),
          events - first.events,
          signal,
        );
        return;
      }
      if (!(error instanceof ShipBufferFullError)) throw error;
      await sleep(error.retryAfterMs, undefined, { signal });
    }
  }
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
