/**
 * bench/deadline.ts: a benchmark phase past its time limit ends the run by
 * itself, with exit code 2, one line naming the phase and what it saw, and
 * the run's 'exit' handlers still called (they stop the servers it started).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const DEADLINE = new URL('../../bench/deadline.ts', import.meta.url).href;

async function runScript(body: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = `import { phase, waitUntil } from '${DEADLINE}';
process.on('exit', (code) => console.log('exit handler ran, code', code));
${body}`;
  try {
    const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script], {
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

test('a wait that never comes true ends the run with its name and what it saw', async () => {
  const result = await runScript(
    `await waitUntil('agents to connect', 0.3, () => false, () => '17 of 20 waiting');
console.log('went on');`,
  );
  assert.equal(result.code, 2);
  assert.match(
    result.stderr,
    /bench stopped: agents to connect: not within 0\.3 s \(17 of 20 waiting\)/,
  );
  assert.doesNotMatch(result.stdout, /went on/);
  assert.match(result.stdout, /exit handler ran, code 2/);
});

test('a phase that never settles ends the run, naming the phase', async () => {
  const result = await runScript(
    `await phase('the group command', 0.3, () => new Promise(() => setInterval(() => {}, 1000)), () => '5 received');`,
  );
  assert.equal(result.code, 2);
  assert.match(
    result.stderr,
    /bench stopped: phase "the group command" did not finish within 0\.3 s \(5 received\)/,
  );
  assert.match(result.stdout, /exit handler ran, code 2/);
});

test('phases and waits that finish in time let the run go on', async () => {
  const result = await runScript(
    `let polls = 0;
const value = await phase('a quick phase', 60, async () => 42);
await waitUntil('the third poll', 60, () => ++polls >= 3);
console.log('value', value, 'polls', polls);`,
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /value 42 polls 3/);
  assert.match(result.stdout, /exit handler ran, code 0/);
});
