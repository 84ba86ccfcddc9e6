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
