/**
 * Worker entry of FrameWorker (frame-worker.ts): splits the chunks it is sent
 * into lines, checks each line, and lays the valid ones out as disk-buffer
 * frames (length, CRC32C, payload) in memory it transfers back. One reply per
 * message, in order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { encodeFrames, frameBytes } from '../buffer/disk/record-frame.ts';
import type { FrameReply, FrameRequest, FrameWorkerOptions } from './frame-worker.ts';
import { isJsonObject } from './json-object-check.ts';
import { type LineReject, LineSplitter } from './line-splitter.ts';
import { isObjectShaped } from './object-shape-check.ts';

const options = workerData as FrameWorkerOptions;
const rejects: [LineReject, number][] = [];
const newSplitter = () =>
  new LineSplitter(
    options.maxLineBytes,
    (reason, line) => rejects.push([reason, line]),
    options.check === 'shape' ? isObjectShaped : isJsonObject,
  );
let splitter = newSplitter();

parentPort!.on('message', (request: FrameRequest) => {
  let records: Buffer[];
  if (request.chunk) {
    const { buffer, byteOffset, byteLength } = request.chunk;
    records = splitter.push(Buffer.from(buffer, byteOffset, byteLength));
  } else {
    records = splitter.end();
    splitter = newSplitter();
  }
  const total = frameBytes(records);
  // Memory of its own (not a slice of Node's pool): it is transferred.
  const frames = encodeFrames(records, total, Buffer.allocUnsafeSlow(total));
  // The chunk's memory goes back for the next read (nothing here holds a view of it now).
  const spare = request.chunk?.buffer as ArrayBuffer | undefined;
  const reply: FrameReply = { frames, events: records.length, rejects: rejects.splice(0), spare };
  const transfer = spare ? [spare] : [];
  if (total > 0) transfer.push(frames.buffer as ArrayBuffer);
  parentPort!.postMessage(reply, transfer);
});
