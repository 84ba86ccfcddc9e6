/**
 * A thread of DecodePool (decode-pool.ts): takes packed ModSecurity records
 * (framing/record-batch.ts), decodes each into its normalized event and lays
 * the events out as disk-buffer frames, CRC32C included, in memory it
 * transfers back; each answer carries the request's id. A record the decoder
 * refuses is reported with its line (encodeRecord, as on every other path).
 */
import { parentPort } from 'node:worker_threads';
import type { DecodeReply, DecodeRequest } from './decode-pool.ts';
import { EventFrameWriter } from './framing/event-frame-writer.ts';
import { encodeRecord } from './framing/modsecurity-decoding.ts';
import { forEachRecord } from './framing/record-batch.ts';
import type { InputReject, OnMalformed } from './framing/record-framer.ts';

const writer = new EventFrameWriter();
let rejects: InputReject[] = [];
const onMalformed: OnMalformed = ({ reason, line, detail }) => rejects.push([reason, line, detail]);

parentPort!.on('message', ({ id, batch }: DecodeRequest) => {
  forEachRecord(batch, (text, line, path) => {
    const event = encodeRecord(text, line, path, onMalformed);
    if (event !== undefined) writer.add(event);
  });
  const { frames, events } = writer.take();
  const reply: DecodeReply = { id, frames, events, rejects };
  rejects = [];
  parentPort!.postMessage(reply, frames.length > 0 ? [frames.buffer as ArrayBuffer] : []);
});
