/**
 * Positions in a disk buffer for a caller that checkpoints its own input
 * against them (`keepwire ship`, ship-inputs.ts): where the data written so
 * far ends, whether the data up to a position an earlier process wrote
 * survived (still in a segment, or acknowledged and deleted), and a sync.
 * A checkpoint saved with the buffer's end right after an append is then
 * valid after a restart exactly when the buffer kept that append: with
 * `fsync: always`, or after a kill (the page cache survives), at once; after
 * a power cut only if the buffer's data reached the disk.
 */
import type { Cursor } from './ledger.ts';
import type { SegmentState } from './recovery.ts';
import type { SegmentWriter } from './segment-writer.ts';

export type { Cursor as BufferPosition } from './ledger.ts';

export class BufferPositions {
  readonly #segments: readonly SegmentState[];
  readonly #cursor: () => Cursor;
  readonly #writer: SegmentWriter;

  constructor(segments: readonly SegmentState[], cursor: () => Cursor, writer: SegmentWriter) {
    this.#segments = segments;
    this.#cursor = cursor;
    this.#writer = writer;
  }

  /** Where the data of the appends resolved so far ends. */
  end(): Cursor {
    const last = this.#segments.at(-1)!;
    return { segment: last.id, offset: last.size };
  }

  /**
   * Whether the data an earlier process wrote up to `position` is still
   * here or was acknowledged. Ask before this process appends: its first
   * segment may take the id of one a power cut lost.
   */
  holds(position: Cursor): boolean {
    const cursor = this.#cursor();
    if (
      cursor.segment > position.segment ||
      (cursor.segment === position.segment && cursor.offset >= position.offset)
    )
      return true;
    const segment = this.#segments.find((known) => known.id === position.segment);
    return segment !== undefined && segment.size >= position.offset;
  }

  /** Resolves once every append resolved before it is durable, whatever the fsync policy. */
  sync(): Promise<void> {
    return this.#writer.sync();
  }
}
