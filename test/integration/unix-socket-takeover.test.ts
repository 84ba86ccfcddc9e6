/**
 * The Unix socket of a running `keepwire serve` against a second serve on
 * the same data directory: a live socket is never taken over, and a plain
 * file where the socket should be is refused, not removed.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { unixRequest } from '../support/control-harness.ts';
import { runCli, type ServeProcess, startServe } from '../support/keepwire-process.ts';

let server: ServeProcess;
let socketPath: string;

before(async () => {
  server = await startServe({
    args: ['--agents', '127.0.0.1:0'],
    env: { KEEPWIRE_WATCH__ENABLED: 'false', KEEPWIRE_PIPELINE__ENABLED: 'false' },
  });
  socketPath = join(server.dataDir, 'keepwire.sock');
  const deadline = Date.now() + 10_000;
  while (!existsSync(socketPath)) {
    if (Date.now() > deadline) throw new Error(`no Unix socket:\n${server.stderr()}`);
    await sleep(20);
  }
});
after(async () => {
  assert.equal(await server.stop('SIGTERM'), 0);
});

test('unix socket: a live socket is not stolen by a second server; a plain file is refused', async () => {
  const second = await runCli(
    ['serve', '--data-dir', server.dataDir, '--admin', '127.0.0.1:0', '--agents', '127.0.0.1:0'],
    {
      env: { KEEPWIRE_WATCH__ENABLED: 'false', KEEPWIRE_PIPELINE__ENABLED: 'false' },
    },
  );
  assert.equal(second.code, 1);
  assert.match(second.stderr, /another process is listening on .*keepwire\.sock/);
  assert.equal(
    (await unixRequest(socketPath, 'GET', '/v1/agents')).status,
    200,
    'the first server still answers',
  );
  const file = join(server.dataDir, 'not-a-socket');
  writeFileSync(file, '');
  const third = await runCli(
    [
      'serve',
      '--data-dir',
      server.dataDir,
      '--admin',
      '127.0.0.1:0',
      '--agents',
      '127.0.0.1:0',
      '--socket',
      file,
    ],
    {
      env: { KEEPWIRE_WATCH__ENABLED: 'false', KEEPWIRE_PIPELINE__ENABLED: 'false' },
    },
  );
  assert.equal(third.code, 1);
  assert.match(third.stderr, /exists and is not a socket/);
});
