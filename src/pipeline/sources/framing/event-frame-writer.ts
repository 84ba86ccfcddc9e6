/**
 * Lays events (JSON text) out as disk-buffer frames (`u32le length | u32le
 * crc32c | payload`, record-frame.ts) straight from the strings: each one
 * is UTF-8-encoded once, into its place in one buffer, instead of into a
 * Buffer of its own that is then copied into the frames (that copy was
 * 9 % of the framing worker's profile). The buffer is new memory for each
 * `take()` (allocUnsafeSlow, never Node's shared pool), so it can be
 * transferred to another thread, and sized from the last one, so it is
 * rarely grown.
 */
import { crc32c } from '../../buffer/disk/crc32c.ts';
import { FRAME_HEADER_BYTES } from '../../buffer/disk/record-frame.ts';

const MIN_CAPACITY = 256 * 1024;
/** A JavaScript string needs at most 3 UTF-8 bytes per UTF-16 unit. */
const MAX_UTF8_PER_UNIT = 3;

export class EventFrameWriter {
  #out: Buffer;
  #at = 0;
  #events = 0;

  constructor(capacity = MIN_CAPACITY) {
    this.#out = Buffer.allocUnsafeSlow(capacity);
  }

  /** Appends `event` as one frame. */
  add(event: string): void {
    const room = FRAME_HEADER_BYTES + event.length * MAX_UTF8_PER_UNIT;
    if (this.#at + room > this.#out.length) this.#grow(this.#at + room);
    const out = this.#out;
    const start = this.#at + FRAME_HEADER_BYTES;
    const bytes = out.write(event, start);
    out.writeUInt32LE(bytes, this.#at);
    out.writeUInt32LE(crc32c(out, start, start + bytes), this.#at + 4);
    this.#at = start + bytes;
    this.#events += 1;
  }

  /** The frames added since the last take (a view of memory of their own), and their count. */
  take(): { frames: Buffer; events: number } {
    const frames = this.#out.subarray(0, this.#at);
    const events = this.#events;
    // The next buffer: as large as this one needed, and a quarter more.
    this.#out = Buffer.allocUnsafeSlow(Math.max(MIN_CAPACITY, this.#at + (this.#at >>> 2)));
    this.#at = 0;
    this.#events = 0;
    return { frames, events };
  }

  #grow(needed: number): void {
    const out = Buffer.allocUnsafeSlow(Math.max(needed, this.#out.length * 2));
    this.#out.copy(out, 0, 0, this.#at);
    this.#out = out;
  }
}
