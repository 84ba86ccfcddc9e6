/**
 * The ack cursor of a disk buffer: where its first unacknowledged frame is.
 * Batches handed out are acknowledged in any order; the cursor moves only
 * past a contiguous run of acknowledged ones, is written to the ledger on
 * every move (fdatasync'ed with `fsync: always`), and the segments it passed
 * are deleted. With nothing in flight it also passes a finished segment's
 * end (cursorPastFinished), so a segment given up on a full disk is freed.
 */
import type { ReadBatch } from '../buffer.ts';
import type { Cursor, Ledger } from './ledger.ts';
import type { SegmentState } from './recovery.ts';
import { cursorPastFinished, type SegmentWriter } from './segment-writer.ts';

interface InFlight {
  readonly end: Cursor;
  isAcked: boolean;
}

export class AckCursor {
  readonly #ledger: Ledger;
  readonly #writer: SegmentWriter;
  readonly #segments: readonly SegmentState[];
  readonly #isSynced: boolean;
  readonly #inFlight: InFlight[] = [];
  readonly #batches = new WeakMap<ReadBatch, InFlight>();
  #cursor: Cursor;

  constructor(
    cursor: Cursor,
    parts: { ledger: Ledger; writer: SegmentWriter; segments: readonly SegmentState[] },
    isSynced: boolean,
  ) {
    this.#cursor = cursor;
    this.#ledger = parts.ledger;
    this.#writer = parts.writer;
    this.#segments = parts.segments;
    this.#isSynced = isSynced;
  }

  get position(): Cursor {
    return this.#cursor;
  }

  /** `batch` was handed out; the reader is now at `end`. */
  handedOut(batch: ReadBatch, end: Cursor): void {
    const entry: InFlight = { end, isAcked: false };
    this.#inFlight.push(entry);
    this.#batches.set(batch, entry);
  }

  /** Records up to `end` were skipped (dropped): acknowledged as they are. */
  skipped(end: Cursor, isSaved: boolean): void {
    this.#inFlight.push({ end, isAcked: true });
    this.advance(isSaved);
  }

  /** Marks `batch` acknowledged; false when it is not one in flight (unknown, or acknowledged before). */
  ack(batch: ReadBatch): boolean {
    const entry = this.#batches.get(batch);
    if (!entry || entry.isAcked) return false;
    entry.isAcked = true;
    return true;
  }

  /** Moves past the acknowledged run at the front; writes the ledger when it moved and `isSaved`. */
  advance(isSaved: boolean): void {
    let moved = false;
    while (this.#inFlight.length > 0 && this.#inFlight[0]!.isAcked) {
      this.#cursor = this.#inFlight.shift()!.end;
      moved = true;
    }
    if (this.#inFlight.length === 0) moved = this.#passFinished() || moved;
    if (moved && isSaved) this.#save();
  }

  /**
   * Moves the cursor on to `cursor` (with nothing in flight and nothing
   * left to deliver before it: only meta frames) and deletes what it passed.
   */
  passTo(cursor: Cursor): void {
    if (this.#inFlight.length > 0 || cursor.segment <= this.#cursor.segment) return;
    this.#cursor = cursor;
    this.#save();
  }

  /** After a failed write: a segment given up with everything acknowledged is deleted now. */
  passGivenUp(): void {
    if (this.#inFlight.length === 0 && this.#passFinished()) this.#save();
  }

  #passFinished(): boolean {
    const next = cursorPastFinished(this.#segments, this.#cursor);
    if (next) this.#cursor = next;
    return next !== undefined;
  }

  #save(): void {
    this.#ledger.write(this.#cursor, this.#isSynced);
    this.#writer.removeBefore(this.#cursor.segment);
  }
}
