/** How a DiskBuffer (disk-buffer.ts) is opened; docs/configuration.md describes each option. */
import type { BufferFilesystem } from './filesystem.ts';
import type { DamagedRegion } from './segment-scan.ts';

export type FsyncPolicy = 'always' | 'never' | number;
export type WhenFull = 'block' | 'dropOldest' | 'dropNewest';
export type DropReason = 'buffer_full_oldest' | 'buffer_full_newest' | 'corrupt';

export interface DiskBufferOptions {
  readonly dir: string;
  readonly maxSizeBytes: number;
  readonly fsync: FsyncPolicy;
  readonly whenFull: WhenFull;
  readonly segmentMaxBytes?: number;
  readonly retryAfterMs?: number;
  readonly onDrop?: (count: number, reason: DropReason) => void;
  /** Each damaged region recovery found, once (to log it; its events are also counted by onDrop). */
  readonly onDamage?: (region: DamagedRegion) => void;
  /** A write or sync failed after the buffer was healthy (appends are refused for retryAfterMs). */
  readonly onWriteError?: (error: Error) => void;
  /** A write succeeded again after onWriteError. */
  readonly onWriteRecovered?: () => void;
  /** The file I/O of the write path; node:fs unless a test injects faults. */
  readonly filesystem?: BufferFilesystem;
  /** Milliseconds now, for the failed state's retryAfterMs; Date.now unless a test steps a clock. */
  readonly now?: () => number;
}

/** Counts the events of damaged regions (onDrop 'corrupt') and reports each region. */
export function reportDamage(damage: readonly DamagedRegion[], options: DiskBufferOptions): void {
  let events = 0;
  for (const region of damage) {
    events += region.events ?? 0;
    options.onDamage?.(region);
  }
  if (events > 0) options.onDrop?.(events, 'corrupt');
}
