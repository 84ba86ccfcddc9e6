/**
 * Start-up recovery of a disk buffer directory (see disk-buffer.ts for the
 * format). It never throws for what it finds in the directory, so a bad disk
 * cannot make the process crash-loop; it only throws when the directory
 * itself cannot be listed. Every damaged region is reported once (segment,
 * offset, events lost or, where that cannot be known, bytes); the rules for
 * one segment are in segment-scan.ts.
 *
 * - Segments before the ledger's cursor are leftovers of a crash between
 *   the ledger write and the deletion: deleted (a failure is retried at the
 *   next start).
 * - A segment emptied by its damage is counted, then deleted; a segment
 *   that was empty all along (opened, never written) is just deleted.
 * - An entry named like a segment that is not a readable file (a directory,
 *   no permission) is renamed aside to NAME.damaged, reported once, and left
 *   for the operator.
 * - The input checkpoints are those of the newest segment's last complete
 *   commit (every segment starts with the whole map: input-checkpoints.ts).
 */
import { readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { InputCheckpoints } from './input-checkpoints.ts';
import { type Cursor, syncDirectory } from './ledger.ts';
import { type DamagedRegion, removeCorrupt, scanSegment } from './segment-scan.ts';

export type { DamagedRegion, DamageKind } from './segment-scan.ts';

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
  /** Every damaged region found, once each. */
  readonly damage: readonly DamagedRegion[];
  /** The input checkpoints the buffer holds (empty when no append carried any). */
  readonly inputs: InputCheckpoints;
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
  const damage: DamagedRegion[] = [];
  const ids: number[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const id = SEGMENT_PATTERN.exec(entry.name)?.[1];
    if (id === undefined) continue;
    if (entry.isFile()) ids.push(Number(id));
    else setAside(join(dir, entry.name), Number(id), 'not a regular file', damage);
  }
  ids.sort((a, b) => a - b);
  let cursor: Cursor = ledgerCursor ?? { segment: ids[0] ?? 0, offset: 0 };
  const segments: SegmentState[] = [];
  let pendingEvents = 0;
  let pendingBytes = 0;
  let inputs: InputCheckpoints = {};
  for (const id of ids) {
    const path = segmentPath(dir, id);
    if (id < cursor.segment) {
      removeQuietly(path);
      continue;
    }
    let scan: ReturnType<typeof scanSegment>;
    try {
      scan = scanSegment(path, id, id === cursor.segment ? cursor.offset : 0, maxRecordBytes);
    } catch (error) {
      setAside(path, id, (error as Error).message, damage);
      continue;
    }
    damage.push(...scan.damage);
    if (scan.inputs) inputs = scan.inputs;
    try {
      scan.size = removeCorrupt(path, scan);
    } catch {
      // Left in place: skipped by the reader, and counted again at the next start.
    }
    if (id === cursor.segment && cursor.offset > scan.size)
      cursor = { segment: id, offset: scan.size };
    if (scan.size === 0) {
      // Empty: a new segment is opened after recovery anyway.
      removeQuietly(path);
      continue;
    }
    segments.push({ id, size: scan.size });
    pendingEvents += scan.events;
    pendingBytes += scan.bytes;
  }
  if (segments.length === 0 || segments[0]!.id > cursor.segment) {
    cursor = { segment: segments[0]?.id ?? cursor.segment, offset: 0 };
  }
  if (damage.length > 0) syncDirectoryQuietly(dir);
  return { segments, cursor, pendingEvents, pendingBytes, damage, inputs };
}

/** Renames an unusable segment entry to NAME.damaged; its size is counted as lost bytes. */
function setAside(path: string, id: number, why: string, damage: DamagedRegion[]): void {
  let bytes = 0;
  try {
    const stat = statSync(path);
    if (stat.isFile()) bytes = stat.size;
    renameSync(path, `${path}.damaged`);
  } catch {
    // Left where it is: reported again at the next start, which still goes on.
  }
  damage.push({
    segment: id,
    offset: 0,
    kind: 'unreadable',
    events: undefined,
    bytes,
    detail: why,
  });
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Retried at the next start: a leftover segment is only disk space.
  }
}

function syncDirectoryQuietly(dir: string): void {
  try {
    syncDirectory(dir);
  } catch {
    // The renames and truncations are redone at the next start if lost.
  }
}
