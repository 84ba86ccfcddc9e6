/**
 * The framing worker's per-chunk work (split, check, frame) in WebAssembly
 * (framer.c, built by scripts/build-wasm.sh): what LineSplitter + the check +
 * encodeFrames do, several times cheaper, with the same output byte for
 * byte. One instance per input stream, as a LineSplitter: `push` each chunk,
 * `end` after the last one; then it starts afresh for the next input.
 *
 * Each call copies the chunk into wasm memory once and the frames out once,
 * into memory of their own (Buffer.allocUnsafeSlow), so they can be
 * transferred to another thread.
 */
import { readFileSync } from 'node:fs';
import type { LineReject } from '../line-splitter.ts';

/** The part of the WebAssembly JS API used here (its types are in lib.dom, not in this project). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { readonly exports: object };
};

/** Compiled once per thread; each WasmFramer gets its own instance and memory. */
const MODULE = new WebAssembly.Module(readFileSync(new URL('./framer.wasm', import.meta.url)));

/** framer.c's exports; pointers are offsets into `memory`. */
interface FramerExports {
  readonly memory: { readonly buffer: ArrayBuffer };
  configure(maxLineBytes: number, shapeOnly: number): void;
  reserve(bytes: number): number;
  push(bytes: number): number;
  finish(): number;
  frames(): number;
  frame_bytes(): number;
  rejected(): number;
  reject_count(): number;
  line_count(): number;
  check_json(at: number, bytes: number): number;
  check_shape(at: number, bytes: number): number;
  crc32c(previous: number, at: number, bytes: number): number;
}

/** What push returns when memory cannot grow (framer.c FAILED). */
const FAILED = 0xffffffff;
const REASONS: readonly LineReject[] = ['too_large', 'invalid'];
/** framer.c reserve()'s limit on a carried line plus a chunk. */
const MAX_LINE_BYTES = 0x7fff0000;

export type FrameCheck = 'json' | 'shape';

export interface FramedChunk {
  /** The frames of the valid lines, in memory of their own (empty: length 0). */
  readonly frames: Buffer;
  readonly events: number;
  /** Lines skipped, with why and their line number in the input (from 1). */
  readonly rejects: [LineReject, number][];
}

export class WasmFramer {
  readonly #wasm: FramerExports;
  /** Lines completed before the current call. */
  #line = 0;
  /** Bytes pushed, and how many of them end with the last newline (a line boundary). */
  #pushedBytes = 0;
  #consumedBytes = 0;

  constructor(maxLineBytes: number, check: FrameCheck) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1)
      throw new RangeError(`maxLineBytes must be a positive integer: ${maxLineBytes}`);
    this.#wasm = new WebAssembly.Instance(MODULE).exports as unknown as FramerExports;
    // A carried line plus a chunk must fit in ~2 GiB of wasm32 memory: a larger limit is taken as that.
    this.#wasm.configure(Math.min(maxLineBytes, MAX_LINE_BYTES), check === 'shape' ? 1 : 0);
  }

  /** Frames the lines `chunk` completes (with what came before it). */
  push(chunk: Uint8Array): FramedChunk {
    this.#copyIn(chunk);
    this.#pushed(chunk);
    return this.#collect(this.#wasm.push(chunk.length));
  }

  /** At the end of input: frames a last line without a newline, and starts afresh. */
  end(): FramedChunk {
    const framed = this.#collect(this.#wasm.finish());
    this.#line = 0;
    this.#pushedBytes = 0;
    this.#consumedBytes = 0;
    return framed;
  }

  /** Counts lines from `line` (the lines before a resumed input's start), before the first push. */
  startAt(line: number): void {
    this.#line = line;
  }

  /** The line boundary the frames so far reach: bytes pushed before it, and lines. */
  consumed(): { bytes: number; lines: number } {
    return { bytes: this.#consumedBytes, lines: this.#line };
  }

  /**
   * `push` for bytes read straight into wasm memory (no copy in): `read`
   * fills the view it is given (`maxBytes` long) and returns how many bytes
   * it read. Undefined, framing nothing, when it read none.
   */
  pushRead(
    maxBytes: number,
    read: (into: Uint8Array) => number,
  ): { framed: FramedChunk; bytes: number } | undefined {
    const at = this.#reserve(maxBytes);
    const into = new Uint8Array(this.#wasm.memory.buffer, at, maxBytes);
    const bytes = read(into);
    if (bytes === 0) return undefined;
    this.#pushed(into.subarray(0, bytes));
    return { framed: this.#collect(this.#wasm.push(bytes)), bytes };
  }

  /** framer.c's JSON object check alone (isJsonObject's semantics). */
  isJsonObject(bytes: Uint8Array): boolean {
    return this.#wasm.check_json(this.#copyIn(bytes), bytes.length) === 1;
  }

  /** framer.c's shape check alone (isObjectShaped's semantics). */
  isObjectShaped(bytes: Uint8Array): boolean {
    return this.#wasm.check_shape(this.#copyIn(bytes), bytes.length) === 1;
  }

  /** framer.c's CRC32C. */
  crc32c(bytes: Uint8Array): number {
    return this.#wasm.crc32c(0, this.#copyIn(bytes), bytes.length) >>> 0;
  }

  /** Moves the line boundary past the last newline of `chunk` (read before push: memory may grow). */
  #pushed(chunk: Uint8Array): void {
    const newline = chunk.lastIndexOf(0x0a);
    if (newline >= 0) this.#consumedBytes = this.#pushedBytes + newline + 1;
    this.#pushedBytes += chunk.length;
  }

  /** Copies `bytes` in after the carried line; returns where they went. */
  #copyIn(bytes: Uint8Array): number {
    const at = this.#reserve(bytes.length);
    new Uint8Array(this.#wasm.memory.buffer, at, bytes.length).set(bytes);
    return at;
  }

  /** Room for `bytes` after the carried line; where they go. Read memory.buffer after it: it may have grown. */
  #reserve(bytes: number): number {
    const at = this.#wasm.reserve(bytes) >>> 0;
    if (at === 0) throw new RangeError(`no wasm memory for a chunk of ${bytes} bytes`);
    return at;
  }

  #collect(result: number): FramedChunk {
    const wasm = this.#wasm;
    if (result >>> 0 === FAILED) throw new RangeError('no wasm memory for the frames of a chunk');
    const memory = wasm.memory.buffer;
    const total = wasm.frame_bytes() >>> 0;
    const frames = Buffer.allocUnsafeSlow(total);
    if (total > 0) frames.set(new Uint8Array(memory, wasm.frames() >>> 0, total));
    const rejects: [LineReject, number][] = [];
    const count = wasm.reject_count();
    if (count > 0) {
      const entries = new Uint32Array(memory, wasm.rejected() >>> 0, count);
      for (const entry of entries) rejects.push([REASONS[entry & 1]!, this.#line + (entry >>> 1)]);
    }
    this.#line += wasm.line_count();
    return { frames, events: result, rejects };
  }
}
