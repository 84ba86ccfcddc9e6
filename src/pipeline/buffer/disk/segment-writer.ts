/**
 * The write side of a disk buffer: the newest segment's file, rolling to a
 * new one, and the fsync policy. All file I/O goes through a BufferFilesystem
 * (filesystem.ts), so tests can make it fail.
 *
 * A write that fails (an error, a short write that cannot complete, a failed
 * fdatasync with `fsync: always`) is never acknowledged: the error is thrown
 * to the appends it carried, the segment keeps only what was written before
 * (a partial tail is truncated, best effort: recovery would count it), and
 * the segment is given up: the next write starts a new one (after a failed
 * fsync the kernel's page state is unknown; the file is not written again).
 * An empty given-up segment is created again rather than left behind, so
 * retries against a full disk do not pile up files. A failed background
 * sync (`fsync: <ms>`, or of a segment rolled away from) concerns appends
 * already acknowledged: it is reported through `onSyncError` and the
 * segment is given up likewise (without truncation: its data stays readable).
 */

import type { BufferFilesystem, SegmentFile } from './filesystem.ts';
import type { Cursor } from './ledger.ts';
import type { FsyncPolicy } from './options.ts';
import { type SegmentState, segmentPath } from './recovery.ts';

export interface SegmentWriterOptions {
  readonly dir: string;
  readonly fsync: FsyncPolicy;
  readonly segmentMaxBytes: number;
  readonly filesystem: BufferFilesystem;
  /** Shared with the buffer: the writer appends new segments and grows the last one. */
  readonly segments: SegmentState[];
  readonly onSyncError: (error: Error) => void;
  /** Bytes every segment starts with, written before its first frames (input-checkpoints.ts). */
  readonly prelude?: () => Buffer | undefined;
}

export class SegmentWriter {
  readonly #options: SegmentWriterOptions;
  readonly #segments: SegmentState[];
  #handle: SegmentFile | undefined;
  #isDirty = false;
  #syncTimer: NodeJS.Timeout | undefined;
  /** Syncs and closes of segments rolled away from or given up. */
  #closing: Promise<void> = Promise.resolve();
  /** Deletions of passed segments, chained in order. */
  #removing: Promise<void> = Promise.resolve();

  constructor(options: SegmentWriterOptions) {
    this.#options = options;
    this.#segments = options.segments;
    if (typeof options.fsync === 'number') {
      this.#syncTimer = setInterval(() => this.#syncNow(), options.fsync);
      this.#syncTimer.unref();
    }
  }

  /**
   * Writes `pieces`, back to back, after the newest segment's data (rolling
   * to segment `nextId()` first when they would not fit; a new segment gets
   * the prelude first); resolves once they are durable per the policy, with
   * the segment they went to (its size already grown: the pieces end
   * there). The pieces are written one after the other, not joined first:
   * a commit frame before megabytes of events costs no copy of the events.
   * The segment's size only grows once all are written, so a failure
   * truncates them all.
   */
  async write(pieces: readonly Buffer[], nextId: () => number): Promise<SegmentState> {
    let bytes = 0;
    for (const piece of pieces) bytes += piece.length;
    await this.#rollIfNeeded(bytes, nextId);
    const segment = this.#segments.at(-1)!;
    const handle = this.#handle!;
    const prelude = segment.size === 0 ? this.#options.prelude?.() : undefined;
    let at = segment.size;
    try {
      if (prelude) at = await writeWhole(handle, prelude, at);
      for (const piece of pieces) at = await writeWhole(handle, piece, at);
      if (this.#options.fsync === 'always') await handle.datasync();
      else this.#isDirty = true;
    } catch (error) {
      this.#giveUp(segment, true);
      throw error;
    }
    segment.size = at;
    return segment;
  }

  async #rollIfNeeded(bytes: number, nextId: () => number): Promise<void> {
    const current = this.#segments.at(-1);
    if (
      this.#handle &&
      current &&
      (current.size === 0 || current.size + bytes <= this.#options.segmentMaxBytes)
    )
      return;
    if (!this.#handle && current?.size === 0) {
      // Given up while still empty: create the same file again.
      await this.#closing;
      const path = segmentPath(this.#options.dir, current.id);
      await this.#options.filesystem.remove(path);
      this.#handle = await this.#options.filesystem.createSegment(path);
      return;
    }
    await this.open(nextId());
  }

  /** Starts segment `id` (the previous one is synced and closed per the policy). */
  async open(id: number): Promise<void> {
    const { fsync, filesystem, dir } = this.#options;
    const previous = this.#handle;
    this.#handle = undefined;
    if (previous && fsync === 'always') {
      try {
        await previous.datasync();
      } finally {
        await previous.close();
      }
    } else if (previous) {
      // Synced at once but off the write path: waiting for it here stalled
      // every append behind a whole segment's fdatasync (300,000 shipped events: 2.17 s, now 1.52 s).
      this.#closeLater(previous, fsync === 'never' ? undefined : previous.datasync());
    }
    // Listed before the file exists: if creating it fails, the next write
    // creates it again (the given-up-while-empty case of #rollIfNeeded).
    this.#segments.push({ id, size: 0 });
    this.#handle = await filesystem.createSegment(segmentPath(dir, id));
    if (fsync === 'always') filesystem.syncDirectory(dir);
  }

  /** Closes `handle` once `sync` settles; a failed sync is reported, never dropped. */
  #closeLater(handle: SegmentFile, sync: Promise<void> | undefined): void {
    const closing = (sync ?? Promise.resolve())
      .catch((error: Error) => this.#options.onSyncError(error))
      .then(() => handle.close());
    this.#closing = this.#closing.then(() => closing).catch(() => {});
  }

  /** Stops writing to `segment` after a failure; `isWriteFailure`: cut its partial tail. */
  #giveUp(segment: SegmentState, isWriteFailure: boolean): void {
    const handle = this.#handle;
    if (!handle) return;
    this.#handle = undefined;
    const cut = isWriteFailure ? handle.truncate(segment.size) : Promise.resolve();
    // The truncation is best effort: a tail it leaves is counted by recovery.
    const closing = cut.catch(() => {}).then(() => handle.close());
    this.#closing = this.#closing.then(() => closing).catch(() => {});
  }

  /** Resolves once every write done before it is durable (segments rolled away from included). */
  async sync(): Promise<void> {
    await this.#closing;
    const handle = this.#handle;
    if (!this.#isDirty || !handle) return;
    this.#isDirty = false;
    await handle.datasync();
  }

  #syncNow(): void {
    const handle = this.#handle;
    if (!this.#isDirty || !handle) return;
    this.#isDirty = false;
    const segment = this.#segments.at(-1)!;
    handle.datasync().catch((error: Error) => {
      if (this.#handle === handle) this.#giveUp(segment, false);
      this.#options.onSyncError(error);
    });
  }

  /** Deletes the segments before `id` (the ack cursor passed them); the newest always stays. */
  removeBefore(id: number): void {
    const { segments, filesystem, dir } = this.#options;
    while (segments.length > 1 && segments[0]!.id < id) {
      const path = segmentPath(dir, segments.shift()!.id);
      // Freeing an 8 MiB file's pages took 5 % of a ship run on the main
      // thread; a failed deletion is retried by recovery at the next open.
      this.#removing = this.#removing.then(() => filesystem.remove(path)).catch(() => {});
    }
  }

  /** Syncs (per the policy) and closes the current segment; waits for the others. */
  async close(): Promise<void> {
    clearInterval(this.#syncTimer);
    const handle = this.#handle;
    this.#handle = undefined;
    // With `always` every write was synced already; with an interval a
    // failed last sync is reported like any background sync.
    if (handle && typeof this.#options.fsync === 'number')
      await handle.datasync().catch((error: Error) => this.#options.onSyncError(error));
    await handle?.close();
    await this.#closing;
    await this.#removing;
  }
}

/**
 * With nothing in flight, a cursor at the end of a segment that will not be
 * written again (any but the newest) can move to the start of the next one,
 * so the finished segment is deleted at once: a segment given up on a full
 * disk must free its space before the next segment can take a write.
 * Returns the new cursor, or undefined when it stays.
 */
export function cursorPastFinished(
  segments: readonly SegmentState[],
  cursor: Cursor,
): Cursor | undefined {
  let index = segments.findIndex((segment) => segment.id === cursor.segment);
  let next: Cursor | undefined;
  while (
    index >= 0 &&
    index < segments.length - 1 &&
    (next ?? cursor).offset >= segments[index]!.size
  ) {
    index += 1;
    next = { segment: segments[index]!.id, offset: 0 };
  }
  return next;
}

/** Writes all of `bytes` at `position` (a short write goes on where it stopped); the position after. */
async function writeWhole(handle: SegmentFile, bytes: Buffer, position: number): Promise<number> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    if (bytesWritten <= 0) throw new Error(`short write: ${done} of ${bytes.length} bytes`);
    done += bytesWritten;
  }
  return position + bytes.length;
}
