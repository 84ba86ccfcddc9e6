/**
 * ModSecurity's concurrent mode (`SecAuditLogType Concurrent`): the audit
 * log is an index with one line per transaction, and each transaction is
 * written whole to a file of its own under `SecAuditLogStorageDir`, as
 * `YYYYMMDD/YYYYMMDD-HHMM/YYYYMMDD-HHMMSS-UNIQUEID`. The index line ends
 * with that file's path, the offset and size of the record in it and its
 * MD5 (v3: `... UNIQUEID - /storage/20261123/20261123-0439/20261123-043913-UNIQUEID 0 2389.000000 md5:957c…`;
 * v2 writes the path relative to the storage directory).
 *
 * A configured storage directory replaces the directory the index names
 * (its date folders kept), for a Keepwire that sees the files elsewhere (a
 * container's volume, a copy of the logs).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** `PATH OFFSET SIZE md5:HASH` at the end of an index line. */
const INDEX_TAIL = / (\S+) (\d+) (\d+)(?:\.\d+)? md5:\S+\s*$/;

/** The transaction file an index line names, or undefined when `line` is not an index line. */
export function indexedPath(line: string): string | undefined {
  return INDEX_TAIL.exec(line)?.[1];
}

/** Where the file named `named` is for this Keepwire: under `storageDir` when one is configured. */
export function resolveIndexedPath(named: string, storageDir: string | undefined): string {
  if (storageDir === undefined) return named;
  const parts = named.split('/').filter((part) => part !== '');
  return join(storageDir, ...parts.slice(-3));
}

/** The record in the transaction file, or why it could not be read. */
export function readIndexedRecord(path: string): { text: string } | { problem: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return {
      problem: `the transaction file ${path} cannot be read (${(error as NodeJS.ErrnoException).code})`,
    };
  }
  text = text.trimEnd();
  if (text === '') return { problem: `the transaction file ${path} is empty` };
  return { text };
}
