/**
 * The disk's sequential write bandwidth as the ship benchmarks measure it:
 * chunks written one after another to a new file, an fdatasync every
 * 1000 ms and one at the end (the disk buffer's default policy).
 */
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';

/** Writes `chunks` to a new file at `path` (removed afterwards); returns the wall ms. */
export function writeChunksMs(path: string, chunks: Iterable<Uint8Array>): number {
  const started = performance.now();
  const fd = openSync(path, 'w');
  let lastSync = started;
  for (const chunk of chunks) {
    writeSync(fd, chunk);
    if (performance.now() - lastSync >= 1000) {
      fdatasyncSync(fd);
      lastSync = performance.now();
    }
  }
  fdatasyncSync(fd);
  closeSync(fd);
  const elapsed = performance.now() - started;
  rmSync(path);
  return elapsed;
}

/** One 1 MiB buffer over and over, `bytes` in all: the disk's rate, not memory's. */
export function* sameChunk(bytes: number): Generator<Buffer> {
  const chunk = Buffer.alloc(1 << 20, 120);
  for (let written = 0; written < bytes; written += chunk.length) yield chunk;
}
