/**
 * A result the server refuses for good (here 413: larger than the agents
 * listener's bodyLimitBytes, set to 600 bytes) ends the command as a failure saying so; the
 * real `keepwire agent` no longer retries it for ever.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI, startServe } from '../support/keepwire-process.ts';
import { listenerAddress, waitFor } from '../support/raw-socket.ts';

test('a result refused with 413 is replaced by a failure naming the refusal', async () => {
  const server = await startServe({ env: { KEEPWIRE_AGENTS__BODY_LIMIT_BYTES: '600' } });
  const headers = {
    authorization: `Bearer ${server.adminToken}`,
    'content-type': 'application/json',
  };
  const api = async (method: string, path: string, body?: unknown) =>
    (await (
      await fetch(`${server.adminUrl}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
    ).json()) as Record<string, unknown> & { id: string };
  const agent = (await api('POST', '/v1/agents', { name: 'big-result' })) as {
    id: string;
    token: string;
  };
  const created = await api('POST', '/v1/commands', {
    target: { type: 'agent', id: agent.id },
    action: { name: 'ping', args: { echo: 'x'.repeat(1_000) } },
  });
  const command = (created.commands as { id: string }[])[0]!;
  const { host, port } = listenerAddress(server.dataDir, 'agents');
  const child = spawn(
    process.execPath,
    [
      CLI,
      'agent',
      '--server',
      `http://${host}:${port}`,
      '--token',
      agent.token,
      '--state-dir',
      join(server.dataDir, 'agent'),
      '--wait-s',
      '5',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr!.resume();
  try {
    interface Ended {
      status: string;
      result: { code?: string; message?: string } | null;
    }
    let ended: Ended = { status: 'pending', result: null };
    await waitFor('the command to end', async () => {
      const response = await fetch(`${server.adminUrl}/v1/commands/${command.id}`, { headers });
      ended = (await response.json()) as Ended;
      return ended.status === 'success' || ended.status === 'failure';
    });
    assert.equal(ended.status, 'failure');
    assert.equal(ended.result?.code, 'RESULT_REFUSED');
    assert.match(ended.result?.message ?? '', /HTTP 413/);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    assert.equal(await server.stop(), 0);
  }
});
