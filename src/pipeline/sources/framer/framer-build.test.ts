import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../../../scripts/build-wasm.sh', import.meta.url));
const COMMITTED = new URL('./framer.wasm', import.meta.url);

/** Why the rebuild cannot be compared here, or undefined when it can. */
function missingCompiler(): string | undefined {
  const clang = spawnSync('clang', ['--version'], { encoding: 'utf8' });
  if (clang.error) return 'clang is not on PATH (Debian: apt-get install clang lld)';
  if (spawnSync('wasm-ld', ['--version']).error)
    return 'wasm-ld is not on PATH (Debian: apt-get install lld)';
  // Another clang version compiles to other (valid) bytes: framer.wasm is built with clang 14.
  if (!/clang version 14\./.test(clang.stdout))
    return `framer.wasm is built with clang 14; this is ${clang.stdout.split('\n')[0]}`;
  return undefined;
}

const skip = missingCompiler();

test('framer.wasm is what scripts/build-wasm.sh builds from framer.c', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'kw-framer-build-'));
  try {
    const out = join(dir, 'framer.wasm');
    const build = spawnSync('sh', [SCRIPT, out], { encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    assert.ok(
      readFileSync(out).equals(readFileSync(COMMITTED)),
      'the committed framer.wasm differs from a rebuild: run scripts/build-wasm.sh',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
