/**
 * The durable disk buffer of one sink, in DATA_DIR/buffers/SINK/.
 *
 * Format (docs/formats/disk-buffer.md has the long version): segments
 * NNNNNNNNNNNNNNNNNNNN.seg, ids rising, append-only, of frames
 * `u32le length | u32le crc32c | payload` (record-frame.ts); `ledger`, the
 * ack cursor (segment id, offset) in two alternating slots (ledger.ts).
 *
 * Invariants:
 * - Only the newest segment is written; a process writes a fresh segment
 *   after every open (the old tail is never appended to again), and rolls
 *   to a new one when the next append would pass `segmentMaxBytes`.
 * - One append call is one write of all its frames; it resolves after the
 *   write and, with `fsync: always`, after fdatasync (group commit: appends
 *   arriving during a write share the next one). With an interval, a timer
 *   fdatasyncs; with `never`, the OS decides. Rolling and syncing segments,
 *   through the filesystem seam, is segment-writer.ts.
 * - A durability error is never swallowed: a failed write or fdatasync
 *   rejects the appends it carried (ShipBufferWriteError; nothing not
 *   durable is acknowledged) and appends are refused for `retryAfterMs`
 *   (write-failure.ts); a failed background sync is reported likewise.
 * - The reader never reads past what a completed write put in the file.
 * - The ledger's cursor only moves past a contiguous run of acknowledged
 *   batches; every record after it is handed out again after a restart
 *   (at-least-once). It is rewritten on every move, so a crash repeats at
 *   most the batches in flight.
 * - A segment is deleted once the cursor has passed its end (off the main
 *   thread, in order; close() waits for the deletions; a segment left
 *   behind by a crash is deleted by recovery).
 * - `maxSizeBytes` bounds the frame bytes of unacknowledged records (the
 *   files hold at most one segment more); when an append would pass it:
 *   `block` waits for room (first come first served, ../room-waiters.ts) up to
 *   `retryAfterMs`, then rejects (ShipBufferFullError), `dropNewest`
 *   drops the append, `dropOldest` skips unread records (space comes back
 *   when their segment is deleted). Every dropped record is counted.
 * - An append may carry input checkpoints, committed in the same write as
 *   its events: a reopened buffer gives back those of its last whole append
 *   (input-checkpoints.ts).
 * Recovery rules are in recovery.ts.
 */
import { mkdirSync } from 'node:fs';
import { ShipBufferWriteError } from '../../errors.ts';
import type { EventBuffer, ReadBatch, ReadLimits } from '../buffer.ts';
import { ReadWaiter } from '../read-waiter.ts';
import { RoomWaiters } from '../room-waiters.ts';
import { AckCursor } from './ack-cursor.ts';
import { nodeFilesystem } from './filesystem.ts';
import { appendTooLarge, bufferFull } from './full-errors.ts';
import {
  type CommitPart,
  hasCheckpoints,
  type InputCheckpoints,
  layOutCommits,
  openingCommit,
} from './input-checkpoints.ts';
import { type Cursor, Ledger } from './ledger.ts';
import { type DiskBufferOptions, reportDamage } from './options.ts';
import {
  encodeRecords,
  FRAME_HEADER_BYTES,
  type FrameRun,
  leadingFrames,
  MAX_RECORD_BYTES,
  wholeFrames,
} from './record-frame.ts';
import { recover, type SegmentState } from './recovery.ts';
import { SegmentReader } from './segment-reader.ts';
import { SegmentWriter } from './segment-writer.ts';
import { WriteFailure } from './write-failure.ts';

export type { InputCheckpoints } from './input-checkpoints.ts';
export type { DiskBufferOptions, DropReason, FsyncPolicy, WhenFull } from './options.ts';
export type { DamagedRegion } from './recovery.ts';

type Pending = CommitPart &
  Readonly<{ events: number; bytes: number }> & {
    resolve(): void;
    reject(error: unknown): void;
  };

export class DiskBuffer implements EventBuffer {
  readonly #options: DiskBufferOptions;
  readonly #ledger: Ledger;
  readonly #writer: SegmentWriter;
  readonly #room = new RoomWaiters();
  readonly #failure: WriteFailure;
  readonly #retryAfterMs: number;
  readonly #nextId = () =>
    Math.max(this.#acks.position.segment, (this.#segments.at(-1)?.id ?? -1) + 1);
  readonly #segments: SegmentState[];
  readonly #reader: SegmentReader;
  readonly #waiter = new ReadWaiter();
  readonly #acks: AckCursor;
  #queue: Pending[] = [];
  #isWriting = false;
  #usedBytes = 0;
  #pendingEvents: number;
  #pendingBytes: number;
  #unreadEvents: number;
  #unreadBytes: number;
  #isClosed = false;
  #drainWaiters: (() => void)[] = [];
  /** The input checkpoints of the appends written so far (and those recovered). */
  #inputs: InputCheckpoints;

  /** Opens (and recovers) the buffer in `options.dir`. */
  static async open(options: DiskBufferOptions): Promise<DiskBuffer> {
    mkdirSync(options.dir, { recursive: true, mode: 0o750 });
    const buffer = new DiskBuffer(options);
    const first = buffer.#nextId();
    buffer.#reader.trustedFrom = first;
    // A full disk does not stop the start: appends are refused (failed state) until it has room.
    const failed = (error: Error) => buffer.#failure.fail(error);
    await Promise.resolve(buffer.#acks.position)
      .then((cursor) => buffer.#ledger.reserve(cursor, options.fsync === 'always'))
      .catch(failed);
    await buffer.#writer.open(first).catch(failed);
    // The fresh segment takes the checkpoints: with nothing left to deliver, the older segments go.
    if (hasCheckpoints(buffer.#inputs))
      await buffer.#writer.write([], buffer.#nextId).then((segment) => {
        if (buffer.#pendingEvents === 0) buffer.#acks.passTo({ segment: segment.id, offset: 0 });
      }, failed);
    return buffer;
  }

  private constructor(options: DiskBufferOptions) {
    this.#options = options;
    this.#retryAfterMs = options.retryAfterMs ?? 1000;
    this.#failure = new WriteFailure({ ...options, retryAfterMs: this.#retryAfterMs });
    this.#ledger = new Ledger(options.dir);
    const state = recover(options.dir, this.#ledger.read(), MAX_RECORD_BYTES);
    this.#segments = state.segments;
    this.#pendingEvents = this.#unreadEvents = state.pendingEvents;
    this.#pendingBytes = this.#unreadBytes = state.pendingBytes;
    this.#usedBytes = state.pendingBytes + FRAME_HEADER_BYTES * state.pendingEvents;
    this.#inputs = state.inputs;
    reportDamage(state.damage, options);
    // The tail cache: up to a quarter of maxSizeBytes, at most 32 MiB.
    this.#reader = new SegmentReader(
      options.dir,
      MAX_RECORD_BYTES,
      state.cursor,
      Math.min(32 << 20, Math.floor(options.maxSizeBytes / 4)),
    );
    this.#writer = new SegmentWriter({
      dir: options.dir,
      fsync: options.fsync,
      segmentMaxBytes:
        options.segmentMaxBytes ??
        Math.min(8 << 20, Math.max(4 << 10, Math.floor(options.maxSizeBytes / 8))),
      filesystem: options.filesystem ?? nodeFilesystem,
      segments: this.#segments,
      onSyncError: (error) => this.#failure.fail(error),
      prelude: () => openingCommit(this.#inputs),
    });
    const parts = { ledger: this.#ledger, writer: this.#writer, segments: this.#segments };
    this.#acks = new AckCursor(state.cursor, parts, options.fsync === 'always');
  }

  get pendingEvents(): number {
    return this.#pendingEvents;
  }

  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Resolves once no appended event is left unacknowledged (dropped ones count as gone). */
  drained(): Promise<void> {
    if (this.#pendingEvents === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Frame bytes of unacknowledged records (and appends being written): what `maxSizeBytes` bounds. */
  get usedBytes(): number {
    return this.#usedBytes;
  }

  get waitingAppends(): number {
    return this.#room.count;
  }

  // Async so that a throw rejects; everything up to the enqueue still runs synchronously, in call order.
  async append(records: readonly Buffer[]): Promise<void> {
    if (this.#isClosed) throw new Error('disk buffer is closed');
    if (records.length === 0) return;
    const frames = encodeRecords(records);
    return this.#appendEncoded(frames, { bytes: frames.length, events: records.length });
  }

  /**
   * Appends `events` frames already laid out by encodeFrames, for a caller
   * that frames (and checksums) off this thread. Their headers are checked;
   * the CRCs are not. `inputs`: checkpoints committed with these events
   * (merged into the map `inputs` gives back), in the same write.
   */
  async appendFrames(frames: Buffer, events: number, inputs?: InputCheckpoints): Promise<void> {
    if (this.#isClosed) throw new Error('disk buffer is closed');
    if (events === 0 && frames.length === 0 && !inputs) return;
    return this.#appendEncoded(frames, wholeFrames(frames, events), inputs);
  }

  /** The input checkpoints held: those recovered at open, then each append's once written. */
  get inputs(): InputCheckpoints {
    return this.#inputs;
  }

  /** Throws when `whenFull` refuses the append. */
  #appendEncoded(
    frames: Buffer,
    run: Omit<FrameRun, 'payloadBytes'>,
    inputs?: InputCheckpoints,
  ): Promise<void> {
    if (this.#failure.isSet) {
      const refusal = this.#failure.refusal();
      if (refusal) return Promise.reject(refusal);
    }
    let accepted: FrameRun = { ...run, payloadBytes: run.bytes - FRAME_HEADER_BYTES * run.events };
    if (this.#usedBytes + frames.length > this.#options.maxSizeBytes || this.#room.hasWaiters) {
      if (this.#options.whenFull === 'block') return this.#waitForRoom(frames, accepted, inputs);
      accepted = this.#makeRoom(frames, accepted);
      if (accepted.events === 0 && !inputs) return Promise.resolve();
    }
    return this.#enqueue(
      accepted.bytes === frames.length ? frames : frames.subarray(0, accepted.bytes),
      accepted,
      inputs,
    );
  }

  #enqueue(frames: Buffer, run: FrameRun, inputs?: InputCheckpoints): Promise<void> {
    this.#usedBytes += run.bytes;
    return new Promise<void>((resolve, reject) => {
      const { events, payloadBytes: bytes } = run;
      this.#queue.push({ frames, events, bytes, inputs, resolve, reject });
      if (!this.#isWriting) void this.#writeQueued();
    });
  }

  /** `whenFull: block`: waits for room up to `retryAfterMs`, then refuses. */
  #waitForRoom(frames: Buffer, run: FrameRun, inputs?: InputCheckpoints): Promise<void> {
    const { maxSizeBytes, dir } = this.#options;
    if (run.bytes > maxSizeBytes) throw appendTooLarge(run, dir, maxSizeBytes);
    return this.#room.wait(
      run.bytes,
      this.#retryAfterMs,
      () => this.#enqueue(frames, run, inputs),
      () =>
        this.#isClosed
          ? new Error('disk buffer is closed')
          : bufferFull(dir, this.#usedBytes, maxSizeBytes, this.#retryAfterMs),
    );
  }

  #admitWaiters(): void {
    this.#room.admit((bytes) => this.#usedBytes + bytes <= this.#options.maxSizeBytes);
  }

  /** The frames of this append that fit, after applying `dropOldest` or `dropNewest`. */
  #makeRoom(frames: Buffer, append: FrameRun): FrameRun {
    const { whenFull, maxSizeBytes } = this.#options;
    const total = append.bytes;
    if (whenFull === 'dropOldest') {
      const needed = this.#usedBytes + total - maxSizeBytes;
      const dropped = this.#reader.skip(needed, this.#segments, this.#end());
      if (dropped.events > 0) {
        this.#unreadEvents -= dropped.events;
        this.#unreadBytes -= dropped.bytes;
        this.#pendingEvents -= dropped.events;
        this.#pendingBytes -= dropped.bytes;
        this.#usedBytes -= dropped.bytes + FRAME_HEADER_BYTES * dropped.events;
        this.#options.onDrop?.(dropped.events, 'buffer_full_oldest');
        this.#acks.skipped(this.#reader.position, !this.#isClosed);
        this.#drainIfEmpty();
      }
      if (this.#usedBytes + total <= maxSizeBytes) return append;
    }
    // dropNewest, or dropOldest that could not free enough (space held by
    // batches in flight): keep what fits, drop the rest of this append.
    const kept = leadingFrames(frames, Math.max(0, maxSizeBytes - this.#usedBytes));
    if (kept.events < append.events)
      this.#options.onDrop?.(append.events - kept.events, 'buffer_full_newest');
    return kept;
  }

  async #writeQueued(): Promise<void> {
    this.#isWriting = true;
    while (this.#queue.length > 0) {
      const group = this.#queue;
      this.#queue = [];
      try {
        if (this.#failure.isSet) {
          const refusal = this.#failure.refusal();
          if (refusal) throw refusal;
        }
        const { pieces, inputs } = layOutCommits(group, this.#inputs);
        const segment = await this.#writer.write(pieces, this.#nextId);
        this.#inputs = inputs;
        this.#reader.rememberPieces(segment.id, segment.size, pieces);
        this.#failure.succeeded();
        for (const pending of group) {
          this.#pendingEvents += pending.events;
          this.#pendingBytes += pending.bytes;
          this.#unreadEvents += pending.events;
          this.#unreadBytes += pending.bytes;
          pending.resolve();
        }
        this.#waiter.wake();
      } catch (error) {
        const refusal =
          error instanceof ShipBufferWriteError ? error : this.#failure.fail(error as Error);
        for (const pending of group) {
          this.#usedBytes -= pending.frames.length;
          pending.reject(refusal);
        }
        this.#admitWaiters();
        // A segment given up with everything acknowledged: delete it now.
        try {
          this.#acks.passGivenUp();
        } catch (ledgerError) {
          this.#failure.fail(ledgerError as Error);
        }
      }
    }
    this.#isWriting = false;
  }

  /** Where the written data ends: the reader must not pass it. */
  #end(): Cursor {
    const last = this.#segments.at(-1)!;
    return { segment: last.id, offset: last.size };
  }

  async read(limits: ReadLimits, signal: AbortSignal): Promise<ReadBatch> {
    const isFull = () =>
      this.#unreadEvents >= limits.maxEvents || this.#unreadBytes >= limits.maxBytes;
    for (;;) {
      await this.#waiter.waitFor(() => this.#unreadEvents > 0, limits, signal, isFull);
      if (this.#isClosed) throw new Error('disk buffer is closed');
      // Synchronous from here to the return: concurrent reads cannot
      // interleave, and the data was just written, so it is in the page cache.
      const batch = this.#reader.read(limits, this.#segments, this.#end());
      if (batch.corrupt > 0) this.#options.onDrop?.(batch.corrupt, 'corrupt');
      if (batch.records.length === 0) {
        // Only corrupt frames were left: nothing unread remains on disk.
        this.#unreadEvents = 0;
        this.#unreadBytes = 0;
        continue;
      }
      this.#unreadEvents -= batch.records.length;
      this.#unreadBytes -= batch.bytes;
      const result: ReadBatch = { records: batch.records, bytes: batch.bytes };
      this.#acks.handedOut(result, this.#reader.position);
      return result;
    }
  }

  /**
   * The input has ended (`keepwire ship` read all its files): readers take
   * what is buffered at once instead of lingering for a fuller batch.
   */
  endLinger(): void {
    this.#waiter.endLinger();
  }

  async ack(batch: ReadBatch): Promise<void> {
    if (!this.#acks.ack(batch)) return;
    this.#pendingEvents -= batch.records.length;
    this.#pendingBytes -= batch.bytes;
    this.#usedBytes -= batch.bytes + FRAME_HEADER_BYTES * batch.records.length;
    this.#admitWaiters();
    this.#drainIfEmpty();
    this.#acks.advance(!this.#isClosed);
  }

  #drainIfEmpty(): void {
    if (this.#pendingEvents === 0) for (const resolve of this.#drainWaiters.splice(0)) resolve();
  }

  /** Resolves once every append resolved before it is durable, whatever the fsync policy. */
  sync(): Promise<void> {
    return this.#writer.sync();
  }

  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#room.refuseAll();
    this.#waiter.close(new Error('disk buffer is closed'));
    while (this.#isWriting) await new Promise((resolve) => setImmediate(resolve));
    try {
      await this.#writer.close();
    } finally {
      this.#reader.close();
      this.#ledger.close();
    }
  }
}
