import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatListen, type ListenAddress } from '../config/index.ts';

/**
 * Writes DATA_DIR/NAME.addr (`HOST:PORT` and a newline) atomically, so a
 * script or test polling for it never reads half an address.
 */
export function writeAddressFile(dataDir: string, name: string, address: ListenAddress): string {
  const path = join(dataDir, `${name}.addr`);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${formatListen(address)}\n`);
  renameSync(temporary, path);
  return path;
}

export function readAddressFile(dataDir: string, name: string): string | undefined {
  try {
    return readFileSync(join(dataDir, `${name}.addr`), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
