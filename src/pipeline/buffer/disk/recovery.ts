/**
 * Start-up recovery of a disk buffer directory (see disk-buffer.ts for the
 * format). It never throws for damaged data, so a bad disk cannot make the
 * process crash-loop; it only throws when the directory itself is unusable.
 *
 * - Segments before the ledger's cursor are leftovers of a crash between
 *   the ledger write and the deletion: deleted.
 * - Empty segments are deleted (every open writes a fresh one).
 * - A frame that runs past the end of its file is a torn tail (a write cut
 *   by a crash): the file is truncated at the frame's start.
 * - A whole frame whose CRC does not match is skipped and counted.
 * - An impossible length (0, or above the record limit) means the header is
 *   garbage and the next frame boundary is unknown: the rest of that segment
 *   is discarded (truncated) and counted as one corrupt region. We do not
 *   resync by scanning for a plausible header: with JSON payloads a false
 *   match is likely, and a wrong resync would hand out garbage as events.
 */
import { closeSync, ftruncateSync, openSync, readdirSync, readSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Cursor } from './ledger.ts';
import { type ParsedFrame, parseFrame } from './record-frame.ts';

export interface SegmentState {
  readonly id: number;
  /** Valid bytes in the file. */
  size: number;
}

export interface RecoveredState {
  readonly segments: SegmentState[];
  readonly cursor: Cursor;
  readonly pendingEvents: number;
  readonly pendingBytes: number;
  /** Corrupt records skipped plus corrupt regions discarded. */
  readonly corrupt: number;
  readonly tornBytes: number;
}

const SEGMENT_PATTERN = /^(\d{20})\.seg$/;

export function segmentPath(dir: string, id: number): string {
  return join(dir, `${String(id).padStart(20, '0')}.seg`);
}

export function recover(
  dir: string,
  ledgerCursor: Cursor | undefined,
  maxRecordBytes: number,
): RecoveredState {
  const ids = readdirSync(dir)
    .map((name) => SEGMENT_PATTERN.exec(name)?.[1])
    .filter((id): id is string => id !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  let cursor: Cursor = ledgerCursor ?? { segment: ids[0] ?? 0, offset: 0 };
  const segments: SegmentState[] = [];
  let pendingEvents = 0;
  let pendingBytes = 0;
  let corrupt = 0;
  let tornBytes = 0;
  for (const id of ids) {
    if (id < cursor.segment) {
      unlinkSync(segmentPath(dir, id));
      continue;
    }
    const scan = scanSegment(
      segmentPath(dir, id),
      id === cursor.segment ? cursor.offset : 0,
      maxRecordBytes,
    );
    if (id === cursor.segment && cursor.offset > scan.size)
      cursor = { segment: id, offset: scan.size };
    if (scan.size === 0) {
      // Empty (opened, never written, or wholly torn): a new segment is
      // opened after recovery anyway.
      unlinkSync(segmentPath(dir, id));
      continue;
    }
    segments.push({ id, size: scan.size });
    pendingEvents += scan.events;
    pendingBytes += scan.bytes;
    corrupt += scan.corrupt;
    tornBytes += scan.tornBytes;
  }
  if (segments.length === 0 || segments[0]!.id > cursor.segment) {
    cursor = { segment: segments[0]?.id ?? cursor.segment, offset: 0 };
  }
  return { segments, cursor, pendingEvents, pendingBytes, corrupt, tornBytes };
}

interface SegmentScan {
  size: number;
  events: number;
  bytes: number;
  corrupt: number;
  tornBytes: number;
}

const CHUNK_BYTES = 1 << 20;

function scanSegment(path: string, from: number, maxRecordBytes: number): SegmentScan {
  const fd = openSync(path, 'r+');
  const result: SegmentScan = { size: 0, events: 0, bytes: 0, corrupt: 0, tornBytes: 0 };
  const frame: ParsedFrame = { kind: 'incomplete', length: 0, next: 0 };
  try {
    let position = 0;
    let chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    // Frames before the cursor were acknowledged; only their boundaries matter.
    for (;;) {
      const read = readSync(fd, chunk, 0, chunk.length, position);
      let at = 0;
      while (at < read) {
        parseFrame(chunk, at, read, maxRecordBytes, frame);
        if (frame.kind === 'incomplete') break;
        if (frame.kind === 'impossible') {
          result.corrupt += 1;
          return truncate(fd, position + at, result);
        }
        if (position + at >= from) {
          if (frame.kind === 'record') {
            result.events += 1;
            result.bytes += frame.length;
          } else result.corrupt += 1;
        }
        at = frame.next;
      }
      if (at === read && read < chunk.length) {
        result.size = position + at;
        return result;
      }
      if (read < chunk.length) {
        // The frame at `at` runs past the end of the file: a torn tail.
        result.tornBytes = read - at;
        return truncate(fd, position + at, result);
      }
      // The chunk was full: the frame goes on past it. Read on from its start.
      const needed = frame.length + 8;
      if (at === 0 && needed > chunk.length) chunk = Buffer.allocUnsafe(needed);
      position += at;
    }
  } finally {
    closeSync(fd);
  }
}

function truncate(fd: number, at: number, result: SegmentScan): SegmentScan {
  ftruncateSync(fd, at);
  result.size = at;
  return result;
}
