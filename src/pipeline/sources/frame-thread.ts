/**
 * Worker entry of FrameWorker (frame-worker.ts): splits the chunks it is sent
 * into lines, checks each line, and lays the valid ones out as disk-buffer
 * frames (length, CRC32C, payload) in memory it transfers back, all in
 * WebAssembly (framer/wasm-framer.ts; the JS LineSplitter + check +
 * encodeFrames is its reference). One reply per message, in order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { FrameReply, FrameRequest, FrameWorkerOptions } from './frame-worker.ts';
import { WasmFramer } from './framer/wasm-framer.ts';

const options = workerData as FrameWorkerOptions;
// end() starts it afresh for the next input.
const framer = new WasmFramer(options.maxLineBytes, options.check);

parentPort!.on('message', (request: FrameRequest) => {
  const { frames, events, rejects } = request.chunk ? framer.push(request.chunk) : framer.end();
  // The chunk's memory goes back for the next read (its bytes were copied into wasm memory).
  const spare = request.chunk?.buffer as ArrayBuffer | undefined;
  const reply: FrameReply = { frames, events, rejects, spare };
  const transfer = spare ? [spare] : [];
  if (frames.length > 0) transfer.push(frames.buffer as ArrayBuffer);
  parentPort!.postMessage(reply, transfer);
});
