/**
 * Every error code raised in src/ is documented in docs/errors.md, and every
 * documented code is still raised somewhere. Codes are found where they are
 * declared: `super('CODE', …)` in an error class, or `code: 'CODE'` in an
 * answer built by hand.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { KeepwireError, UsageError } from './errors.ts';

const root = new URL('..', import.meta.url).pathname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

function raisedCodes(): Map<string, string> {
  const codes = new Map<string, string>();
  const pattern = /(?:super\(\s*|\bcode: )'([A-Z][A-Z0-9_]+)'/g;
  for (const file of sourceFiles(join(root, 'src'))) {
    for (const match of readFileSync(file, 'utf8').matchAll(pattern)) {
      codes.set(match[1]!, file.slice(root.length));
    }
  }
  return codes;
}

function documentedCodes(): Set<string> {
  const text = readFileSync(join(root, 'docs/errors.md'), 'utf8');
  return new Set([...text.matchAll(/^\| `([A-Z][A-Z0-9_]+)` +\|/gm)].map((m) => m[1]!));
}

test('every raised error code is documented in docs/errors.md', () => {
  const documented = documentedCodes();
  const missing = [...raisedCodes()].filter(([code]) => !documented.has(code));
  assert.deepEqual(missing, [], 'add a row "| `CODE` | ... |" to docs/errors.md for each');
});

test('every documented error code is still raised', () => {
  const raised = raisedCodes();
  const stale = [...documentedCodes()].filter((code) => !raised.has(code));
  assert.deepEqual(stale, [], 'remove these rows from docs/errors.md');
});

test('errors carry code, status, retryable and cause', () => {
  const cause = new Error('root');
  const error = new KeepwireError('X_TEST', 'message', { cause, status: 503, retryable: true });
  assert.equal(error.code, 'X_TEST');
  assert.equal(error.status, 503);
  assert.equal(error.retryable, true);
  assert.equal(error.cause, cause);
  assert.equal(error.name, 'KeepwireError');
  assert.deepEqual(error.toJSON(), { error: { code: 'X_TEST', message: 'message' } });
  const usage = new UsageError('bad');
  assert.equal(usage.name, 'UsageError');
  assert.equal(usage.status, 400);
  assert.equal(usage.retryable, false);
});
