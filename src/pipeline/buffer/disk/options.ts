/** How a DiskBuffer (disk-buffer.ts) is opened; docs/configuration.md describes each option. */
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
}
