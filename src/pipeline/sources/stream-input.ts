/**
 * Reads NDJSON input (standard input, or files for `keepwire ship`) into a
 * disk buffer. A framing worker (frame-worker.ts) splits, checks and frames
 * the lines: of the chunks this thread reads from a stream (`frameChunks`),
 * or of a file it reads itself (`FrameWorker.frameFile`). Up to AHEAD framed
 * chunks are queued here; each chunk's frames are appended as soon as they
 * are back, in input order, one append at a time (so a live stream's events
 * go out at once); a full buffer (block) is waited out. A file's
 * checkpoint (the record boundary its chunk reaches) is handed to the
 * append of that chunk's frames, so the buffer commits both in one write.
 * Invalid and oversized lines are counted through `onReject`.
 */
import { appendFramesWaiting } from './append-waiting.ts';
import type { FileCheckpoint, FramedInput, FrameWorker } from './frame-worker.ts';
import type { MalformedReason } from './framing/record-framer.ts';

/** Chunks with the worker at once: enough to keep it busy while an append is written. */
const AHEAD = 4;

export interface StreamInputOptions {
  /** `checkpoint`: a file's record boundary these frames reach, to commit with them. */
  readonly appendFrames: (
    frames: Buffer,
    events: number,
    checkpoint?: FileCheckpoint,
  ) => Promise<void>;
  readonly onReject: (reason: MalformedReason, line: number, detail?: string) => void;
  /** Called after each durable append with the events and input bytes it covered. */
  readonly onAppended?: (events: number, inputBytes: number) => void;
  /** A file's record boundary once the append that committed it resolved; awaited before the next append. */
  readonly onCheckpoint?: (checkpoint: FileCheckpoint) => void | Promise<void>;
  readonly signal?: AbortSignal;
}

/** The chunks of `stream` (standard input) framed by `frameWorker`, then the end of the input. */
export async function* frameChunks(
  stream: AsyncIterable<Buffer> | Iterable<Buffer>,
  frameWorker: FrameWorker,
): AsyncGenerator<FramedInput> {
  for await (const chunk of stream)
    yield { framed: frameWorker.frame(chunk), inputBytes: chunk.length };
  yield { framed: frameWorker.end(), inputBytes: 0 };
}

/** Appends the framed chunks of one input, in order; resolves with the events appended. */
export async function readStreamInto(
  input: AsyncIterable<FramedInput>,
  options: StreamInputOptions,
): Promise<number> {
  const { signal } = options;
  const queued: FramedInput[] = [];
  let isEnded = false;
  let events = 0;
  // Each side wakes the other: the reader when it queued a chunk, the
  // appender when it took one off the queue (or failed).
  let wakeAppender = () => {};
  let wakeReader = () => {};
  const appending = (async () => {
    for (;;) {
      const next = queued[0];
      if (!next) {
        if (isEnded) return;
        await new Promise<void>((resolve) => {
          wakeAppender = resolve;
        });
        continue;
      }
      const { frames, events: count, rejects } = await next.framed;
      signal?.throwIfAborted(); // stop at once: what was appended is all a checkpoint covers
      for (const [reason, line, detail] of rejects) options.onReject(reason, line, detail);
      const { checkpoint } = next;
      if (count > 0 || checkpoint)
        await appendFramesWaiting(
          options.appendFrames,
          { frames, events: count, checkpoint },
          signal,
        );
      events += count;
      options.onAppended?.(count, next.inputBytes);
      if (checkpoint && options.onCheckpoint) await options.onCheckpoint(checkpoint);
      queued.shift();
      wakeReader();
    }
  })();
  let failure: { error: unknown } | undefined;
  appending.catch((error) => {
    failure = { error };
    wakeReader();
  });
  const enqueue = async (next: FramedInput) => {
    next.framed.catch(() => {}); // observed by the appender, or abandoned after a failure
    queued.push(next);
    wakeAppender();
    while (queued.length >= AHEAD && !failure) {
      await new Promise<void>((resolve) => {
        wakeReader = resolve;
      });
    }
    if (failure) throw failure.error;
  };
  for await (const next of input) await enqueue(next);
  isEnded = true;
  wakeAppender();
  await appending;
  return events;
}
