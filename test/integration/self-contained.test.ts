/**
 * The repository stands alone: no file cites a document or data the project
 * does not have (design notes, a shared folder outside the checkout). The
 * reasons live in docs/architecture.md, test data under test/fixtures/.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const ROOT = new URL('../..', import.meta.url).pathname;
const SKIP = new Set(['node_modules', '.git', 'dist', 'var', '.bench-tmp']);
// Assembled, so this file does not cite them itself.
const OUTSIDE = ['DESIGN', 'STYLE']
  .map((name) => `${name}.md`)
  .concat(['/work/' + 'shared', '../' + 'shared/']);

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile()) yield path;
  }
}

test('no file cites a document or folder outside the repository', () => {
  const citing: string[] = [];
  for (const path of files(ROOT)) {
    const text = readFileSync(path, 'latin1');
    for (const name of OUTSIDE)
      if (text.includes(name)) citing.push(`${relative(ROOT, path)}: ${name}`);
  }
  assert.deepEqual(citing, []);
});
