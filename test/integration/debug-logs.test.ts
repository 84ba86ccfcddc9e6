/**
 * `log.level: debug` is worth turning on: a real `keepwire ship` logs each
 * pooled connection opened and closed with its reason and each batch sent
 * and sent again; a real `keepwire serve` logs each command's transitions.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startCountingServer } from '../support/counting-server.ts';
import { CLI, makeDataDir, runCli, startServe } from '../support/keepwire-process.ts';
import { seqLines, waitFor } from '../support/ship-serve.ts';

function lines(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

test('ship at debug: connections opened and closed with a reason, batches sent and retried', async () => {
  const collector = await startCountingServer();
  collector.status = 503;
  const dir = makeDataDir('kw-debug-');
  try {
    const file = join(dir, 'events.ndjson');
    writeFileSync(file, seqLines(0, 50));
    const child = spawn(process.execPath, [CLI, 'ship', file, '--to', `${collector.url}/in`], {
      env: { ...process.env, KEEPWIRE_LOG__LEVEL: 'debug', KEEPWIRE_LOG__FORMAT: 'json' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await waitFor(() => collector.requests >= 1, 20_000, 'the first (refused) batch');
    collector.status = 200;
    assert.equal(await exited, 0, stderr);

    const logged = lines(stderr);
    const messages = logged.map((l) => l.msg);
    const opened = logged.find((l) => l.msg === 'connection opened');
    assert.ok(opened, `a connection opened line in:\n${stderr}`);
    assert.match(String(opened.local), /^127\.0\.0\.1:\d+$/);
    const closed = logged.find((l) => l.msg === 'connection closed');
    assert.ok(closed, 'a connection closed line');
    assert.ok(typeof closed.reason === 'string' && typeof closed.requests === 'number');
    assert.ok(messages.includes('batch send failed; retrying'), 'the 503 is logged');
    assert.ok(messages.includes('batch to be sent again'), 'the retry is logged');
    const sent = logged.find((l) => l.msg === 'batch sent');
    assert.ok(sent, 'the batch sent line');
    assert.equal(sent.events, 50);
    // Every request the collector saw was an attempt at this one batch: the
    // 503s (one or more, as the retry may come before the switch to 200) and the 200.
    assert.ok(Number(sent.attempts) >= 2, 'sent after at least one refusal');
    assert.equal(sent.attempts, collector.requests);
  } finally {
    await collector.close();
  }
});

test('serve at debug: each command transition is a log line', async () => {
  const server = await startServe({
    env: { KEEPWIRE_LOG__LEVEL: 'debug', KEEPWIRE_LOG__FORMAT: 'json' },
  });
  try {
    const connection = ['--data-dir', server.dataDir, '--json'];
    const created = await runCli([
      'commands',
      'create',
      '--target',
      'component:nobody',
      '--action',
      'ping',
      ...connection,
    ]);
    assert.equal(created.code, 0, created.stderr);
    const id = (JSON.parse(created.stdout) as { commands: { id: string }[] }).commands[0]!.id;
    const cancelled = await runCli(['commands', 'cancel', id, ...connection]);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    await waitFor(
      () => lines(server.stderr()).some((l) => l.command === id && l.status === 'cancelled'),
      10_000,
      'the cancelled transition line',
    );
    const transitions = lines(server.stderr()).filter(
      (l) => l.msg === 'command transition' && l.command === id,
    );
    assert.deepEqual(
      transitions.map((l) => [l.status, l.target, l.action]),
      [
        ['pending', 'component:nobody', 'ping'],
        ['cancelled', 'component:nobody', 'ping'],
      ],
    );
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
