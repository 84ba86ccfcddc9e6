/**
 * Start-up failures from the system, on a real `keepwire serve`: each is one
 * line saying what to do, exit 1, no "unexpected error" and no stack.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeDataDir, type RunResult, runCli } from '../support/keepwire-process.ts';

const PORTS = ['--admin', '127.0.0.1:0', '--agents', '127.0.0.1:0', '--events', '127.0.0.1:0'];
const QUIET = { KEEPWIRE_LOG__LEVEL: 'warn' };

function serve(args: string[], prefix: string[] = []): Promise<RunResult> {
  return runCli(['serve', ...PORTS, ...args], { env: QUIET, prefix });
}

function assertOneClearLine(result: RunResult, pattern: RegExp): void {
  assert.equal(result.code, 1, result.stderr);
  const lines = result.stderr.split('\n').filter((line) => line.startsWith('keepwire serve:'));
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(result.stderr, /unexpected error|\n\s+at /, result.stderr);
}

test('a port in use names the listener and what to do', async () => {
  const holder: Server = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const { port } = holder.address() as { port: number };
  try {
    const result = await serve(['--data-dir', makeDataDir(), '--admin', `127.0.0.1:${port}`]);
    assertOneClearLine(
      result,
      new RegExp(
        `admin listener .*127\\.0\\.0\\.1:${port} is already in use.*choose another address`,
      ),
    );
  } finally {
    holder.close();
  }
});

test('a missing socket directory is reported as missing, not EACCES', async () => {
  const dir = makeDataDir();
  const result = await serve(['--data-dir', dir, '--socket', join(dir, 'no', 'such', 'k.sock')]);
  assertOneClearLine(result, /socket directory .*\/no\/such does not exist; create it/);
});

test('a socket path too long for the kernel is named with its length', async () => {
  const dir = makeDataDir();
  const result = await serve(['--data-dir', dir, '--socket', join(dir, `${'s'.repeat(120)}.sock`)]);
  assertOneClearLine(result, /is \d+ bytes; Unix sockets take at most 107/);
});

test('a socket directory this user cannot write is named', async () => {
  const dir = makeDataDir();
  chmodSync(dir, 0o777);
  const readOnly = join(dir, 'ro');
  mkdirSync(readOnly, { mode: 0o555 });
  chmodSync(readOnly, 0o555);
  // root writes anywhere: run as nobody then.
  const prefix =
    process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
  const result = await serve(
    ['--data-dir', join(dir, 'data'), '--socket', join(readOnly, 'k.sock')],
    prefix,
  );
  assertOneClearLine(
    result,
    /Unix socket .*ro\/k\.sock: permission denied; make its directory writable/,
  );
});

test('a data directory that cannot be made: under a file, and under /proc (no spin)', async () => {
  const underFile = await serve(['--data-dir', '/etc/passwd/keepwire']);
  assertOneClearLine(
    underFile,
    /cannot create the data directory \/etc\/passwd\/keepwire \(ENOTDIR/,
  );
  // Node's recursive mkdir loops for ever here, deaf to SIGTERM.
  const underProc = await serve(['--data-dir', '/proc/keepwire-test/data']);
  assertOneClearLine(underProc, /cannot create the data directory \/proc\/keepwire-test\/data/);
});
