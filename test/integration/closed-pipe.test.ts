/**
 * `keepwire ... | head -1`: a command whose standard output is a pipe with no
 * reader left ends quietly with status 0, no EPIPE stack trace. The test
 * closes its end of the pipe before the command writes anything, so every
 * write meets a closed pipe.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { CLI } from '../support/keepwire-process.ts';

function runWithClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

for (const args of [
  ['sockets'],
  ['sockets', '--by', 'process', '--json'],
  ['sysctl', 'audit'],
  ['--help'],
  ['commands', '--help'],
]) {
  test(`keepwire ${args.join(' ')} into a closed pipe: status 0, nothing on standard error`, async () => {
    const run = await runWithClosedStdout(args);
    assert.equal(run.stderr, '');
    assert.equal(run.code, 0);
  });
}
