/**
 * `keepwire init` through the real CLI: the file it writes loads back through
 * the configuration loader to exactly the defaults, it refuses to overwrite
 * without --force, and its help teaches.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { makeDataDir, runCli } from '../support/keepwire-process.ts';

test('init writes every section at its defaults; the loader reads it back equal to the defaults', async () => {
  const dir = makeDataDir('kw-init-');
  const file = join(dir, 'keepwire.yaml');
  const result = await runCli(['init', '--output', file]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /wrote .*keepwire\.yaml/);
  const text = readFileSync(file, 'utf8');
  assert.match(text, /^# dataDir: \(optional, no default\) string$/m);
  for (const section of [
    'shutdownGraceMs',
    'log',
    'admin',
    'watch',
    'agents',
    'socket',
    'control',
    'pipeline',
  ])
    assert.match(text, new RegExp(`^${section}:`, 'm'), section);
  assert.match(text, /^ {2}# integer, at least 100\n {2}intervalMs: 5000$/m);
  assert.match(text, /^ {2}# token: \(optional, no default\) string, at least 16 characters$/m);
  assert.deepEqual(loadConfig({ file, env: {} }), loadConfig({ env: {} }));
});

test('init refuses to overwrite without --force, and writes to stdout with --output -', async () => {
  const dir = makeDataDir('kw-init-');
  const file = join(dir, 'keepwire.yaml');
  writeFileSync(file, 'mine: true\n');
  const refused = await runCli(['init', '--output', file]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /exists; use --force/);
  assert.equal(readFileSync(file, 'utf8'), 'mine: true\n');
  const forced = await runCli(['init', '--output', file, '--force']);
  assert.equal(forced.code, 0, forced.stderr);
  const stdout = await runCli(['init', '--output', '-']);
  assert.equal(stdout.code, 0, stdout.stderr);
  assert.equal(stdout.stdout, readFileSync(file, 'utf8'));
});

test('init --help teaches: options, examples, the environment', async () => {
  const help = await runCli(['init', '--help']);
  assert.equal(help.code, 0);
  for (const part of [
    '--output FILE',
    '--force',
    'keepwire serve --config',
    'KEEPWIRE_WATCH__INTERVAL_MS',
  ])
    assert.ok(help.stdout.includes(part), part);
  const list = await runCli(['--help']);
  assert.match(list.stdout, /init\s+write an annotated configuration file/);
});
