import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';

/**
 * Replaces a file's whole content atomically: write `PATH.tmp`, fsync it,
 * rename it over PATH. A reader (or a restart after a crash) sees the old
 * content or the new, never half of either. The directory is not fsynced:
 * callers here tolerate the old content coming back after a power cut
 * (checkpoints re-read, at-least-once; a compacted journal is a superset).
 */
export function replaceFileSync(path: string, data: string, mode: number): void {
  const temporary = `${path}.tmp`;
  const fd = openSync(temporary, 'w', mode);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}
