import { closeSync, openSync } from 'node:fs';

/**
 * Creates the store file 0600 before SQLite opens it (SQLite would create it
 * 0644 under the usual umask; its -wal and -shm files take the file's mode).
 */
export function createPrivate(path: string): void {
  if (path === ':memory:' || path.startsWith('file:')) return;
  closeSync(openSync(path, 'a', 0o600));
}
