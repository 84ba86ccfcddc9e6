/**
 * The ack cursor of one disk buffer, in DATA_DIR/buffers/SINK/ledger: two
 * fixed 32-byte slots, written alternately in place, each
 * `"KWBL" | u32le sequence | u64le segment | u64le offset |
 * u32le crc32c(bytes 0..24) | 4 zero bytes`. A write touches one slot only
 * (one pwrite, fdatasync'ed when asked), so a write torn by a crash damages
 * at most the slot being written and the other still holds the previous
 * cursor. Reading takes the valid slot with the higher sequence. A missing
 * or wholly damaged ledger reads as "no cursor": the buffer starts from its
 * oldest segment (at-least-once). In-place slots rather than temp + rename:
 * a rename costs about a millisecond on some file systems, once per ack.
 */
import {
  closeSync,
  constants,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  openSync,
  readSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32c } from './crc32c.ts';

export interface Cursor {
  readonly segment: number;
  readonly offset: number;
}

const MAGIC = 0x4c42574b; // "KWBL" little-endian
const SLOT_BYTES = 32;

export class Ledger {
  readonly #path: string;
  readonly #slot = Buffer.alloc(SLOT_BYTES);
  #fd: number | undefined;
  #sequence = 0;

  constructor(dir: string) {
    this.#path = join(dir, 'ledger');
  }

  read(): Cursor | undefined {
    const fd = this.#open();
    let bytes = Buffer.alloc(2 * SLOT_BYTES);
    const length = readSync(fd, bytes, 0, bytes.length, 0);
    bytes = bytes.subarray(0, length);
    let best: { sequence: number; cursor: Cursor } | undefined;
    for (let at = 0; at + SLOT_BYTES <= bytes.length; at += SLOT_BYTES) {
      const slot = bytes.subarray(at, at + SLOT_BYTES);
      if (slot.readUInt32LE(0) !== MAGIC || crc32c(slot, 0, 24) !== slot.readUInt32LE(24)) continue;
      const sequence = slot.readUInt32LE(4);
      if (best && sequence <= best.sequence) continue;
      best = {
        sequence,
        cursor: {
          segment: Number(slot.readBigUInt64LE(8)),
          offset: Number(slot.readBigUInt64LE(16)),
        },
      };
    }
    this.#sequence = best?.sequence ?? 0;
    return best?.cursor;
  }

  /** Synchronous on purpose: one small pwrite, and no ack can interleave. */
  write(cursor: Cursor, isDurable: boolean): void {
    const fd = this.#open();
    this.#sequence = (this.#sequence + 1) >>> 0;
    const slot = this.#slot;
    slot.writeUInt32LE(MAGIC, 0);
    slot.writeUInt32LE(this.#sequence, 4);
    slot.writeBigUInt64LE(BigInt(cursor.segment), 8);
    slot.writeBigUInt64LE(BigInt(cursor.offset), 16);
    slot.writeUInt32LE(crc32c(slot, 0, 24), 24);
    writeSync(fd, slot, 0, SLOT_BYTES, (this.#sequence % 2) * SLOT_BYTES);
    if (isDurable) fdatasyncSync(fd);
  }

  /**
   * Writes the cursor recovery settled on (it may have clamped or reset the
   * stored one: a new segment can then reuse an id, and a stale offset must
   * not apply to it), to both slots if the file does not hold them yet, so
   * every later write is in place and needs no new disk block: on a full
   * disk the cursor still moves and acknowledged segments are still freed.
   */
  reserve(cursor: Cursor, isDurable: boolean): void {
    if (fstatSync(this.#open()).size < 2 * SLOT_BYTES) this.write(cursor, false);
    this.write(cursor, isDurable);
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  #open(): number {
    // Not 'a+': with O_APPEND, Linux ignores the position of a pwrite.
    this.#fd ??= openSync(this.#path, constants.O_RDWR | constants.O_CREAT, 0o640);
    return this.#fd;
  }
}

/** Makes a rename or a new file in `dir` survive a power cut. */
export function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
