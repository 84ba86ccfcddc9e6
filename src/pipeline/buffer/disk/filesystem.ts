/**
 * The seam under the disk buffer's write path (as Vector's disk buffer does
 * its file I/O through a `Filesystem` trait): opening segments, writing and
 * syncing them, syncing the directory, deleting segments. The real one is
 * node:fs, whose FileHandle already is a SegmentFile (no wrapper on the hot
 * path); tests inject a faulty one (faulty-filesystem.ts) to prove what the
 * buffer promises when writes fail, come up short, or the disk is full.
 *
 * Recovery and reads use node:fs directly: recovery never throws for what it
 * finds, and a read error reaches the sink driver, which stops reading.
 */
import { type FileHandle, open, rm } from 'node:fs/promises';
import { syncDirectory } from './ledger.ts';

/** One open segment: the calls the writer makes on it. */
export interface SegmentFile {
  write(
    bytes: Buffer,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ bytesWritten: number }>;
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

export interface BufferFilesystem {
  /** Creates a new segment file (it must not exist). */
  createSegment(path: string): Promise<SegmentFile>;
  /** Makes a new file in `dir` survive a power cut. */
  syncDirectory(dir: string): void;
  remove(path: string): Promise<void>;
}

export const nodeFilesystem: BufferFilesystem = {
  createSegment: (path: string): Promise<FileHandle> => open(path, 'wx', 0o640),
  syncDirectory,
  remove: (path: string) => rm(path, { force: true }),
};
