/**
 * `keepwire serve` with the CLI's own variables set (they are not settings),
 * its data dir from KEEPWIRE_DATA_DIR found by the client commands the same
 * way, and a generated admin token that stays out of a non-terminal's logs.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
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
    // Over the admin listener, the token comes from the same data dir.
    const overTcp = await runCli(['commands', 'list', '--server', server.adminUrl, '--json'], {
      env: { ...env, KEEPWIRE_TOKEN: '' },
    });
    assert.equal(overTcp.code, 0, overTcp.stderr);
    const wrongDir = await runCli(['commands', 'list', '--server', server.adminUrl], {
      env: { KEEPWIRE_DATA_DIR: join(server.dataDir, 'nothing-here'), KEEPWIRE_TOKEN: '' },
    });
    assert.equal(wrongDir.code, 2, 'no token anywhere: a usage error');
    assert.match(wrongDir.stderr, /--server needs --token/);

    const logged = server.stderr();
    assert.match(logged, /"tokenFile":"[^"]*admin\.token"/, 'the token file is logged');
    assert.match(logged, /generated an admin token/);
    assert.ok(!logged.includes(server.adminToken), 'the token itself is never logged');
  } finally {
    assert.equal(await server.stop('SIGTERM'), 0, server.stderr());
  }
});
