/**
 * The ack cursor of one disk buffer, in DATA_DIR/buffers/SINK/ledger:
 * 32 bytes `"KWBL" | u32le version=1 | u64le segment | u64le offset |
 * u32le crc32c(bytes 0..24) | 4 zero bytes`. Written whole to `ledger.tmp`,
 * fsynced when asked, then renamed over `ledger`: a reader sees the old or
 * the new cursor, never half of one. A missing or damaged ledger reads as
 * "no cursor": the buffer starts from its oldest segment (at-least-once).
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32c } from './crc32c.ts';

export interface Cursor {
  readonly segment: number;
  readonly offset: number;
}

const MAGIC = 0x4c42574b; // "KWBL" little-endian
const VERSION = 1;
const LEDGER_BYTES = 32;

export class Ledger {
  readonly #path: string;
  readonly #temporary: string;
  readonly #dir: string;
  readonly #bytes = Buffer.alloc(LEDGER_BYTES);

  constructor(dir: string) {
    this.#dir = dir;
    this.#path = join(dir, 'ledger');
    this.#temporary = join(dir, 'ledger.tmp');
  }

  read(): Cursor | undefined {
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.#path);
    } catch {
      return undefined;
    }
    if (bytes.length !== LEDGER_BYTES) return undefined;
    if (bytes.readUInt32LE(0) !== MAGIC || bytes.readUInt32LE(4) !== VERSION) return undefined;
    if (crc32c(bytes, 0, 24) !== bytes.readUInt32LE(24)) return undefined;
    return {
      segment: Number(bytes.readBigUInt64LE(8)),
      offset: Number(bytes.readBigUInt64LE(16)),
    };
  }

  /** Synchronous on purpose: a few microseconds, and no ack can interleave. */
  write(cursor: Cursor, isDurable: boolean): void {
    const bytes = this.#bytes;
    bytes.writeUInt32LE(MAGIC, 0);
    bytes.writeUInt32LE(VERSION, 4);
    bytes.writeBigUInt64LE(BigInt(cursor.segment), 8);
    bytes.writeBigUInt64LE(BigInt(cursor.offset), 16);
    bytes.writeUInt32LE(crc32c(bytes, 0, 24), 24);
    const fd = openSync(this.#temporary, 'w', 0o640);
    try {
      writeSync(fd, bytes, 0, LEDGER_BYTES, 0);
      if (isDurable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(this.#temporary, this.#path);
    if (isDurable) syncDirectory(this.#dir);
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
