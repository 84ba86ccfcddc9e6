/**
 * `keepwire serve` with the CLI's own variables set (they are not settings),
 * its data dir from KEEPWIRE_DATA_DIR found by the client commands the same
 * way, and a generated admin token that stays out of a non-terminal's logs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli, startServe } from '../support/keepwire-process.ts';

test('serve starts with KEEPWIRE_TOKEN and KEEPWIRE_AGENT_TOKEN set; clients find its socket through KEEPWIRE_DATA_DIR', async () => {
  const server = await startServe({
    dataDirInEnv: true,
    env: {
      KEEPWIRE_TOKEN: 'kw_not_a_setting',
      KEEPWIRE_AGENT_TOKEN: 'kw_not_a_setting_either',
      KEEPWIRE_FD_SCAN_WORKERS_FROM: '0',
      KEEPWIRE_LOG__LEVEL: 'info',
    },
  });
  try {
    const env = { KEEPWIRE_DATA_DIR: server.dataDir };
    const agents = await runCli(['agents', 'list', '--json'], { env });
    assert.equal(agents.code, 0, agents.stderr);
    assert.deepEqual(JSON.parse(agents.stdout), { agents: [] });
    const commands = await runCli(['commands', 'list', '--json'], { env });
    assert.equal(commands.code, 0, commands.stderr);

    const logged = server.stderr();
    assert.match(logged, /"tokenFile":"[^"]*admin\.token"/, 'the token file is logged');
    assert.match(logged, /generated an admin token/);
    assert.ok(!logged.includes(server.adminToken), 'the token itself is never logged');
  } finally {
    assert.equal(await server.stop('SIGTERM'), 0, server.stderr());
  }
});
