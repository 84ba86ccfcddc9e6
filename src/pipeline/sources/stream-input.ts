/**
 * Reads NDJSON from a stream (standard input, or a file for `keepwire ship`)
 * into a disk buffer. A framing worker (frame-worker.ts) splits, checks and
 * frames the lines of up to AHEAD chunks while this thread reads the next
 * chunk; each chunk's frames are appended as soon as they are back, in input
 * order, one append at a time (so a live stream's events go out at once); a
 * full buffer (block) is waited out. Invalid and oversized lines are counted
 * through `onReject`.
 */
import { appendFramesWaiting } from './append-waiting.ts';
import type { Framed, FrameWorker } from './frame-worker.ts';
import type { LineReject } from './line-splitter.ts';

/** Chunks with the worker at once: enough to keep it busy while an append is written. */
const AHEAD = 4;

export interface StreamInputOptions {
  readonly frameWorker: FrameWorker;
  /** Each chunk's memory is the stream's gift, never reused: it moves to the worker without a copy. */
  readonly transferChunks: boolean;
  readonly appendFrames: (frames: Buffer, events: number) => Promise<void>;
  readonly onReject: (reason: LineReject, line: number) => void;
  /** Called after each durable append with the events and input bytes it covered. */
  readonly onAppended?: (events: number, inputBytes: number) => void;
  readonly signal?: AbortSignal;
}

export async function readStreamInto(
  stream: AsyncIterable<Buffer> | Iterable<Buffer>,
  options: StreamInputOptions,
): Promise<number> {
  const { frameWorker, signal } = options;
  const queued: { framed: Promise<Framed>; inputBytes: number }[] = [];
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
      for (const [reason, line] of rejects) options.onReject(reason, line);
      if (count > 0) await appendFramesWaiting(options.appendFrames, frames, count, signal);
      events += count;
      options.onAppended?.(count, next.inputBytes);
      queued.shift();
      wakeReader();
    }
  })();
  let failure: { error: unknown } | undefined;
  appending.catch((error) => {
    failure = { error };
    wakeReader();
  });
  const enqueue = async (framed: Promise<Framed>, inputBytes: number) => {
    framed.catch(() => {}); // observed by the appender, or abandoned after a failure
    queued.push({ framed, inputBytes });
    wakeAppender();
    while (queued.length >= AHEAD && !failure) {
      await new Promise<void>((resolve) => {
        wakeReader = resolve;
      });
    }
    if (failure) throw failure.error;
  };
  for await (const chunk of stream) {
    const inputBytes = chunk.length; // before a transfer empties the view
    await enqueue(frameWorker.frame(chunk, options.transferChunks), inputBytes);
  }
  await enqueue(frameWorker.end(), 0);
  isEnded = true;
  wakeAppender();
  await appending;
  return events;
}
