/** Options and records for the disk buffer's tests: a fresh directory each time. */
import { join } from 'node:path';
import type { DiskBufferOptions } from '../../src/pipeline/buffer/disk/disk-buffer.ts';
import { makeDataDir } from './keepwire-process.ts';

export function diskBufferOptions(extra: Partial<DiskBufferOptions> = {}): DiskBufferOptions {
  return {
    dir: join(makeDataDir('kw-disk-'), 'b'),
    maxSizeBytes: 1 << 20,
    fsync: 'always',
    whenFull: 'block',
    ...extra,
  };
}

/** `n` records `PREFIX0`, `PREFIX1`, … */
export const texts = (n: number, prefix = 'e'): Buffer[] =>
  Array.from({ length: n }, (_, i) => Buffer.from(`${prefix}${i}`));
