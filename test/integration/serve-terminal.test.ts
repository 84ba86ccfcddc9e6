/**
 * `keepwire serve` on a terminal (a real pseudo-terminal from script(1), as
 * an operator starting it by hand): the generated admin token is shown once,
 * the logs are human-readable lines, and Ctrl-C stops it in order.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI, EPHEMERAL_LISTENERS, makeDataDir } from '../support/keepwire-process.ts';
import { waitFor } from '../support/ship-serve.ts';

test('serve on a terminal shows a generated token once and logs readable lines', async () => {
  const dataDir = makeDataDir('kw-tty-');
  // exec: script(1) runs the command with $SHELL -c (dash where SHELL is
  // unset, as under CI), and dash does not exec it: the shell would share the
  // terminal's SIGINT and could exit 130 before reporting node's 0.
  const command = [
    'exec',
    process.execPath,
    CLI,
    'serve',
    '--data-dir',
    dataDir,
    ...EPHEMERAL_LISTENERS,
  ].join(' ');
  // script(1) runs the command on a new pseudo-terminal; -e: its exit status.
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr.resume();
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    await waitFor(() => output.includes('shown once'), 20_000, 'the token message');
    await waitFor(() => /\n {2}kw_\S+\r?\n/.test(output), 5_000, 'the token line');
  } finally {
    child.stdin.write('\x03'); // Ctrl-C: SIGINT to the terminal's foreground process
  }
  assert.equal(await exited, 0, output);
  const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  assert.equal(output.split(token).length - 1, 1, 'the token is shown exactly once');
  assert.match(output, /^\d\d:\d\d:\d\d\.\d{3} INFO {2}admin listener ready {2}admin=/m);
  assert.doesNotMatch(output, /"level":/, 'no JSON lines on a terminal');
  assert.match(output, /INFO {2}shut down/);
});
