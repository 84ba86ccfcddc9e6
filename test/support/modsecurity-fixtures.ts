/**
 * The ModSecurity audit records in test/fixtures/modsecurity (see its
 * README.md), read as whole records: JSON lines, native records split at
 * their `A` boundaries, concurrent-mode files listed by their index.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURES = new URL('../fixtures/modsecurity/', import.meta.url).pathname;

export function fixturePath(name: string): string {
  return join(FIXTURES, name);
}

/** The non-empty lines of a JSON serial log. */
export function jsonRecords(name: string): string[] {
  return readFileSync(fixturePath(name), 'utf8').split('\n').filter(Boolean);
}

/** A native serial log cut before each A boundary (v2 or v3 form); blank lines between records dropped. */
export function nativeRecords(name: string): string[] {
  const text = readFileSync(fixturePath(name), 'utf8');
  return text
    .split(/(?=^-{2,3}[0-9A-Za-z]+-{1,3}A--$)/m)
    .map((record) => record.replace(/\n+$/, '\n'))
    .filter((record) => record.trim() !== '');
}

/** Every file under a concurrent-mode storage directory. */
export function concurrentFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...concurrentFiles(path));
    else out.push(path);
  }
  return out.sort();
}

/** A small Native record with id `id` (8 characters): v3 boundaries, or v2; without its Z when `withZ` is false. */
export function nativeRecord(id: string, v2 = false, withZ = true): string {
  const b = (section: string) => (v2 ? `--${id}-${section}--` : `---${id}---${section}--`);
  return [
    b('A'),
    `[23/Nov/2026:04:39:10 +0000] 1795408750.${id} 127.0.0.1 50310 127.0.0.1 44493`,
    b('B'),
    'GET /?id=1 HTTP/1.1',
    'Host: 127.0.0.1',
    '',
    b('H'),
    'ModSecurity: Warning. [id "942100"]',
    '',
    ...(withZ ? [b('Z'), ''] : []),
  ].join('\n');
}
