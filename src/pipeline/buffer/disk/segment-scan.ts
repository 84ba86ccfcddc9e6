/**
 * Start-up scan of one segment file (recovery.ts runs it on each): walks the
 * frames, truncates the file where the data stops being trustworthy, and
 * reports every damaged region once, with what it cost.
 *
 * - A whole frame whose CRC does not match is one event lost; runs of such
 *   frames are one region. The segment is then rewritten without them
 *   (removeCorrupt), so the next start does not count them again and the
 *   reader never meets them.
 * - An impossible length (0, or above the record limit) means the header is
 *   garbage and the next frame boundary is unknown. Before the ack cursor
 *   (acknowledged data) the cursor itself is a known boundary: the scan goes
 *   on from there and nothing is lost. From the cursor on, the rest of the
 *   segment is discarded (truncated); how many events it held cannot be
 *   known, so the region is counted in bytes. We do not resync by scanning
 *   for a plausible header: inside JSON payloads a false match is likely,
 *   and a wrong resync would hand garbage out as events.
 * - A frame that runs past the end of the file is torn (a write cut by a
 *   crash): truncated at its start; one event lost when its header is whole,
 *   else its bytes.
 * - Meta frames are not events. Commit frames (input-checkpoints.ts) give
 *   the segment's input checkpoints; an append whose commit covers more
 *   bytes than the file holds was cut by a crash before it was acknowledged:
 *   it is cut off whole, from its commit frame, and not counted as lost (its
 *   producer reads it again from the checkpoint before).
 */
import {
  closeSync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { CommitTracker, type InputCheckpoints } from './input-checkpoints.ts';
import { FRAME_HEADER_BYTES, type ParsedFrame, parseFrame } from './record-frame.ts';

export type DamageKind = 'corrupt' | 'garbage' | 'torn' | 'unreadable';

/** One damaged region of a buffer directory, reported (and logged) once. */
export interface DamagedRegion {
  readonly segment: number;
  readonly offset: number;
  readonly kind: DamageKind;
  /** Events lost in it; undefined when the count cannot be known (then `bytes` is the measure). */
  events: number | undefined;
  bytes: number;
  readonly detail?: string;
}

export interface SegmentScan {
  /** Valid bytes left in the file. */
  size: number;
  /** Whole, valid records from `from` on. */
  events: number;
  bytes: number;
  damage: DamagedRegion[];
  /** The input checkpoints of the segment's last complete commit, if it has one. */
  inputs?: InputCheckpoints;
}

const CHUNK_BYTES = 1 << 20;

export function scanSegment(
  path: string,
  id: number,
  from: number,
  maxRecordBytes: number,
): SegmentScan {
  const fd = openSync(path, 'r+');
  const result: SegmentScan = { size: 0, events: 0, bytes: 0, damage: [] };
  const frame: ParsedFrame = { kind: 'incomplete', length: 0, next: 0 };
  const commits = new CommitTracker();
  try {
    const fileSize = fstatSync(fd).size;
    let position = 0;
    let chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    for (;;) {
      const read = readSync(fd, chunk, 0, chunk.length, position);
      let at = 0;
      while (at < read) {
        parseFrame(chunk, at, read, maxRecordBytes, frame);
        if (frame.kind === 'incomplete') break;
        const offset = position + at;
        if (frame.kind === 'impossible') {
          if (offset < from) break; // acknowledged: go on from the cursor
          const detail = `frame length ${frame.length} is impossible`;
          addDamage(result, id, offset, 'garbage', undefined, fileSize - offset, detail);
          commits.finish(offset); // damage, not a crash: its open commit is not taken
          result.inputs = commits.inputs;
          return truncate(fd, offset, result);
        }
        if (frame.isMeta) {
          // A corrupt one only loses a checkpoint: its input is read again from the one before.
          const payload = chunk.subarray(at + FRAME_HEADER_BYTES, frame.next);
          if (frame.kind === 'record')
            commits.meta(payload, offset, position + frame.next, result.events, result.bytes);
        } else if (offset >= from) {
          if (frame.kind === 'record') {
            result.events += 1;
            result.bytes += frame.length;
          } else addDamage(result, id, offset, 'corrupt', 1, frame.next - at);
        }
        at = frame.next;
      }
      if (frame.kind === 'impossible' && position + at < from) {
        position = from;
        continue;
      }
      if (at === read && read < chunk.length) {
        result.size = position + at;
        return endCommits(fd, commits, from, result);
      }
      if (read < chunk.length) {
        const offset = position + at;
        const isHeaderWhole = read - at >= FRAME_HEADER_BYTES;
        // A torn commit frame starts an append never acknowledged: nothing is lost.
        if (!(isHeaderWhole && frame.isMeta))
          addDamage(result, id, offset, 'torn', isHeaderWhole ? 1 : undefined, read - at);
        return endCommits(fd, commits, from, truncate(fd, offset, result));
      }
      // The chunk was full: the frame goes on past it. Read on from its start.
      const needed = frame.length + FRAME_HEADER_BYTES;
      if (at === 0 && needed > chunk.length) chunk = Buffer.allocUnsafe(needed);
      position += at;
    }
  } finally {
    closeSync(fd);
  }
}

/** Adds a region, merged into the previous one when it is the same kind and touches it. */
function addDamage(
  scan: SegmentScan,
  segment: number,
  offset: number,
  kind: DamageKind,
  events: number | undefined,
  bytes: number,
  detail?: string,
): void {
  const last = scan.damage.at(-1);
  if (last && last.kind === kind && last.offset + last.bytes === offset && kind === 'corrupt') {
    last.events = (last.events ?? 0) + (events ?? 0);
    last.bytes += bytes;
    return;
  }
  scan.damage.push({ segment, offset, kind, events, bytes, detail });
}

/** The scan reached the end of the data: an append a crash cut before its commit was whole goes. */
function endCommits(
  fd: number,
  commits: CommitTracker,
  from: number,
  result: SegmentScan,
): SegmentScan {
  const cut = commits.finish(result.size);
  if (cut && cut.offset >= from) {
    result.events = cut.events;
    result.bytes = cut.bytes;
    result.damage = result.damage.filter((region) => region.offset < cut.offset);
    truncate(fd, cut.offset, result);
  }
  result.inputs = commits.inputs;
  return result;
}

function truncate(fd: number, at: number, result: SegmentScan): SegmentScan {
  ftruncateSync(fd, at);
  result.size = at;
  return result;
}

/**
 * Rewrites the segment at `path` (`size` valid bytes) without the `corrupt`
 * regions of `scan`: a temporary file, synced, renamed over it. Offsets
 * before the first region, where the ack cursor is, do not move. Returns
 * the new size.
 */
export function removeCorrupt(path: string, scan: SegmentScan): number {
  const regions = scan.damage.filter((region) => region.kind === 'corrupt');
  if (regions.length === 0) return scan.size;
  const bytes = readFileSync(path).subarray(0, scan.size);
  const parts: Buffer[] = [];
  let at = 0;
  for (const region of regions) {
    parts.push(bytes.subarray(at, region.offset));
    at = region.offset + region.bytes;
  }
  parts.push(bytes.subarray(at));
  const kept = Buffer.concat(parts);
  const temporary = `${path}.rewrite`;
  const fd = openSync(temporary, 'w', 0o640);
  try {
    writeSync(fd, kept);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  return kept.length;
}
