/**
 * A BufferFilesystem (src/pipeline/buffer/disk/filesystem.ts) that fails on
 * demand, for the disk buffer's tests: before each create, write or sync it
 * asks `decide` which fault, if any, to inject. Faults are real outcomes of
 * the system calls: an errno error (EIO, ENOSPC), or a short write that puts
 * only part of the bytes in the file (the rest is left to the caller's next
 * write, as the kernel does). Syncs are not passed to the disk unless asked
 * (`isSyncReal`): these tests are about errors, not power cuts, and a real
 * fdatasync per write would make a model test of thousands of steps slow.
 */
import { type FileHandle, open } from 'node:fs/promises';
import type { BufferFilesystem, SegmentFile } from '../../src/pipeline/buffer/disk/filesystem.ts';
import { nodeFilesystem } from '../../src/pipeline/buffer/disk/filesystem.ts';

export type FaultOperation = 'create' | 'write' | 'datasync';
export type Fault = 'EIO' | 'ENOSPC' | 'short';

export interface FaultCounts {
  create: number;
  write: number;
  datasync: number;
  short: number;
}

export function errnoError(code: 'EIO' | 'ENOSPC', syscall: string): NodeJS.ErrnoException {
  const text = code === 'EIO' ? 'i/o error' : 'no space left on device';
  const error: NodeJS.ErrnoException = new Error(`${code}: ${text}, ${syscall}`);
  error.code = code;
  error.syscall = syscall;
  error.errno = code === 'EIO' ? -5 : -28;
  return error;
}

export class FaultyFilesystem implements BufferFilesystem {
  /** Faults injected so far, per operation (short writes apart). */
  readonly injected: FaultCounts = { create: 0, write: 0, datasync: 0, short: 0 };
  readonly #decide: (operation: FaultOperation) => Fault | undefined;
  readonly #isSyncReal: boolean;

  constructor(decide: (operation: FaultOperation) => Fault | undefined, isSyncReal = false) {
    this.#decide = decide;
    this.#isSyncReal = isSyncReal;
  }

  async createSegment(path: string): Promise<SegmentFile> {
    const fault = this.#decide('create');
    if (fault === 'EIO' || fault === 'ENOSPC') {
      this.injected.create += 1;
      throw errnoError(fault, 'open');
    }
    return new FaultySegment(await open(path, 'wx', 0o640), this);
  }

  syncDirectory(dir: string): void {
    nodeFilesystem.syncDirectory(dir);
  }

  remove(path: string): Promise<void> {
    return nodeFilesystem.remove(path);
  }

  /** @internal for FaultySegment */
  decide(operation: FaultOperation): Fault | undefined {
    return this.#decide(operation);
  }

  get isSyncReal(): boolean {
    return this.#isSyncReal;
  }
}

class FaultySegment implements SegmentFile {
  readonly #handle: FileHandle;
  readonly #fs: FaultyFilesystem;

  constructor(handle: FileHandle, fs: FaultyFilesystem) {
    this.#handle = handle;
    this.#fs = fs;
  }

  async write(
    bytes: Buffer,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ bytesWritten: number }> {
    const fault = this.#fs.decide('write');
    if (fault === 'EIO' || fault === 'ENOSPC') {
      this.#fs.injected.write += 1;
      // A full disk takes what fits first: part of the bytes land in the file.
      if (fault === 'ENOSPC' && length > 1)
        await this.#handle.write(bytes, offset, length >> 1, position);
      throw errnoError(fault, 'write');
    }
    if (fault === 'short' && length > 1) {
      this.#fs.injected.short += 1;
      return this.#handle.write(bytes, offset, length >> 1, position);
    }
    return this.#handle.write(bytes, offset, length, position);
  }

  async datasync(): Promise<void> {
    const fault = this.#fs.decide('datasync');
    if (fault === 'EIO' || fault === 'ENOSPC') {
      this.#fs.injected.datasync += 1;
      throw errnoError(fault, 'fdatasync');
    }
    if (this.#fs.isSyncReal) await this.#handle.datasync();
  }

  truncate(length: number): Promise<void> {
    return this.#handle.truncate(length);
  }

  close(): Promise<void> {
    return this.#handle.close();
  }
}
