/**
 * The installed command's compile cache (bin/keepwire.js): in a directory of
 * the user's own under TMPDIR, created 0700, never Node.js's shared default;
 * a directory that is not safe to trust is left alone and the command runs
 * without a cache. Runs the real `bin/keepwire.js sockets --json`.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeDataDir, runProcess } from '../support/keepwire-process.ts';

const BIN = new URL('../../bin/keepwire.js', import.meta.url).pathname;
const uid = process.getuid!();
const cacheName = `keepwire-compile-cache-${uid}`;

async function countSockets(tmp: string): Promise<void> {
  const run = await runProcess(process.execPath, [BIN, 'sockets', '--json'], {
    env: { TMPDIR: tmp, NODE_COMPILE_CACHE: undefined, NODE_DISABLE_COMPILE_CACHE: undefined },
  });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, '');
  assert.equal(typeof JSON.parse(run.stdout).total, 'number');
}

/** Every file below `dir`, recursively. */
function filesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

test('the cache goes to TMPDIR/keepwire-compile-cache-UID, created 0700', async (t) => {
  const tmp = makeDataDir('kw-cache-');
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  await countSockets(tmp);
  const dir = join(tmp, cacheName);
  const stat = lstatSync(dir);
  assert.ok(stat.isDirectory());
  assert.equal(stat.uid, uid);
  assert.equal(stat.mode & 0o777, 0o700);
  assert.ok(filesBelow(dir).length > 0, 'the compiled modules are cached');
  assert.deepEqual(readdirSync(tmp), [cacheName], "nothing in Node.js's shared default directory");
  await countSockets(tmp); // and a second run reads it back
});

test('a cache directory others could write to is not used', async (t) => {
  const tmp = makeDataDir('kw-cache-');
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const dir = join(tmp, cacheName);
  mkdirSync(dir);
  chmodSync(dir, 0o775);
  await countSockets(tmp);
  assert.deepEqual(filesBelow(dir), []);
  assert.deepEqual(readdirSync(tmp), [cacheName]);
});

test('under a parent others can rename entries in, no cache directory is made', async (t) => {
  const tmp = makeDataDir('kw-cache-');
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  chmodSync(tmp, 0o777); // writable by all and not sticky
  await countSockets(tmp);
  assert.deepEqual(readdirSync(tmp), []);
});

test('an unwritable TMPDIR: the command runs without a cache, silently', async (t) => {
  const tmp = makeDataDir('kw-cache-');
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const missing = join(tmp, 'missing');
  await countSockets(missing);
  assert.equal(existsSync(missing), false);
});
