/**
 * UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, version 7, 12 bits of a
 * counter that keeps ids from one generator increasing within a millisecond,
 * the variant, and 62 random bits. crypto.randomUUID() gives only version 4.
 */
import { randomFillSync } from 'node:crypto';

export class UuidV7Generator {
  readonly #now: () => number;
  readonly #random = Buffer.alloc(8);
  #lastMs = -1;
  #counter = 0;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  next(): string {
    let ms = this.#now();
    if (ms <= this.#lastMs) {
      ms = this.#lastMs;
      this.#counter += 1;
      if (this.#counter > 0xfff) {
        ms += 1;
        this.#counter = 0;
      }
    } else {
      this.#counter = 0;
    }
    this.#lastMs = ms;
    randomFillSync(this.#random);
    const bytes = Buffer.alloc(16);
    bytes.writeUIntBE(ms, 0, 6);
    bytes[6] = 0x70 | (this.#counter >> 8);
    bytes[7] = this.#counter & 0xff;
    this.#random.copy(bytes, 8);
    bytes[8] = 0x80 | (bytes[8]! & 0x3f);
    const hex = bytes.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
}
