/**
 * Reads NDJSON from a stream (standard input, or a file for `keepwire ship`)
 * into the pipeline: each chunk's complete lines are appended in one call,
 * the stream paused while the append is pending; a full buffer (block) is
 * waited out. Invalid and oversized lines are counted through `onReject`.
 */
import { appendWaiting } from './append-waiting.ts';
import { type LineCheck, type LineReject, LineSplitter } from './line-splitter.ts';
import type { AppendRecords } from './source.ts';

export interface StreamInputOptions {
  readonly maxLineBytes: number;
  readonly append: AppendRecords;
  readonly onReject: (reason: LineReject, line: number) => void;
  /** Which lines are events (default: the full JSON object check). */
  readonly isValid?: LineCheck;
  /** Called after each durable append with the events and input bytes it covered. */
  readonly onAppended?: (events: number, inputBytes: number) => void;
  readonly signal?: AbortSignal;
}

export async function readStreamInto(
  stream: AsyncIterable<Buffer>,
  options: StreamInputOptions,
): Promise<number> {
  const splitter = new LineSplitter(options.maxLineBytes, options.onReject, options.isValid);
  let events = 0;
  // Double buffering: the next chunk is read and split while the previous
  // append is being written; at most one append is outstanding.
  let previous: Promise<void> = Promise.resolve();
  const appendInTurn = async (records: Buffer[], inputBytes: number) => {
    const before = previous;
    const current = (async () => {
      await before;
      if (records.length > 0) await appendWaiting(options.append, records, options.signal);
      events += records.length;
      options.onAppended?.(records.length, inputBytes);
    })();
    previous = current;
    // Observed through `previous` by the next turn or the final await.
    current.catch(() => {});
    await before;
  };
  for await (const chunk of stream) {
    await appendInTurn(splitter.push(chunk), chunk.length);
  }
  await appendInTurn(splitter.end(), 0);
  await previous;
  return events;
}
