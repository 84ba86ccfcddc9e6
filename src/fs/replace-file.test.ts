import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { replaceFileSync } from './replace-file.ts';

test('replaceFileSync swaps the whole content in, with the mode, leaving no temp file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kw-replace-'));
  try {
    const path = join(dir, 'state.json');
    writeFileSync(path, '{"old":true,"padding":"xxxxxxxxxxxxxxxx"}');
    replaceFileSync(path, '{"new":1}', 0o600);
    assert.equal(readFileSync(path, 'utf8'), '{"new":1}');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(existsSync(`${path}.tmp`), false);
    replaceFileSync(join(dir, 'fresh'), 'a', 0o640);
    assert.equal(readFileSync(join(dir, 'fresh'), 'utf8'), 'a');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
