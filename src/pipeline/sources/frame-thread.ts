/**
 * Worker entry of FrameWorker (frame-worker.ts): splits input into lines,
 * checks each line, and lays the valid ones out as disk-buffer frames
 * (length, CRC32C, payload) in memory it transfers back, all in
 * WebAssembly (framer/wasm-framer.ts; the JS LineSplitter + check +
 * encodeFrames is its reference); or ModSecurity audit logs framed and
 * decoded into normalized events (framing/modsecurity-frames.ts), or,
 * with a decode pool (`isDecodedElsewhere`), framed only and handed on
 * packed for the pool's threads.
 *
 * Two ways in, never at once:
 * - chunks the caller read (standard input): one reply per chunk or end,
 *   in order;
 * - a file it reads itself, straight into wasm memory: one reply per chunk
 *   read, the last one marked, at most `credits` ahead of the caller, who
 *   grants one more per reply it takes (or cancels).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type {
  FileCheckpoint,
  FrameReply,
  FrameRequest,
  FrameWorkerOptions,
} from './frame-worker.ts';
import { WasmFramer } from './framer/wasm-framer.ts';
import { type FramedEvents, ModsecurityFrames } from './framing/modsecurity-frames.ts';
import { batchTransfer } from './framing/record-batch.ts';

const options = workerData as FrameWorkerOptions;
// end() starts it afresh for the next input.
const framer =
  options.from === 'modsecurity'
    ? new ModsecurityFrames(options.maxLineBytes, options.storageDir, options.isDecodedElsewhere)
    : new WasmFramer(options.maxLineBytes, options.check);

interface FileReading {
  fd: number;
  chunkBytes: number;
  credits: number;
  /** Where the input started (a resumed one: a record boundary), and the next byte to read. */
  readonly start: FileCheckpoint;
  position: number;
}
let file: FileReading | undefined;

function reply(framed: FramedEvents, extra: Partial<FrameReply> = {}): void {
  const { frames, events, rejects, records } = framed;
  const message: FrameReply = { frames, events, rejects, records, ...extra };
  const transfer = records ? batchTransfer(records) : [];
  if (frames.length > 0) transfer.push(frames.buffer as ArrayBuffer);
  parentPort!.postMessage(message, transfer);
}

function closeFile(): void {
  if (file) closeSync(file.fd);
  file = undefined;
}

/** Reads and frames while the caller has credit left; the last reply is marked. */
function pump(): void {
  while (file && file.credits > 0) {
    const reading = file;
    const read = framer.pushRead(reading.chunkBytes, (into) => {
      const bytes = readSync(reading.fd, into, 0, into.length, reading.position);
      reading.position += bytes;
      return bytes;
    });
    reading.credits -= 1;
    const consumed = framer.consumed();
    if (read) {
      const checkpoint = {
        offset: reading.start.offset + consumed.bytes,
        line: consumed.lines,
      };
      reply(read.framed, { inputBytes: read.bytes, checkpoint });
    } else {
      closeFile();
      // The end: everything read is framed (a last line without a newline counts).
      const isUnterminated = reading.start.offset + consumed.bytes < reading.position;
      const checkpoint = {
        offset: reading.position,
        line: consumed.lines + (isUnterminated ? 1 : 0),
      };
      reply(framer.end(), { inputBytes: 0, checkpoint, isLast: true });
    }
  }
}

function failFile(error: unknown): void {
  closeFile();
  framer.end(); // drop what a failed input left behind
  const { message, code } = error as NodeJS.ErrnoException;
  parentPort!.postMessage({ error: message ?? String(error), code });
}

parentPort!.on('message', (request: FrameRequest) => {
  try {
    if (request.file !== undefined) {
      closeFile(); // one input at a time: a new one ends any other
      const fd = openSync(request.file, 'r');
      const start = request.start ?? { offset: 0, line: 0 };
      framer.startAt(start.line);
      file = {
        fd,
        chunkBytes: request.chunkBytes!,
        credits: request.credits!,
        start,
        position: start.offset,
      };
      pump();
    } else if (request.credits !== undefined) {
      if (file) file.credits += request.credits;
      pump();
    } else if (request.isCancel) {
      closeFile();
      framer.end();
      parentPort!.postMessage({ isCancelled: true });
    } else if (request.chunk) {
      reply(framer.push(request.chunk));
    } else {
      reply(framer.end());
    }
  } catch (error) {
    if (request.file !== undefined || request.credits !== undefined) failFile(error);
    else throw error;
  }
});
