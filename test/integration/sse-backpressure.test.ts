/**
 * SSE backpressure, on a real `keepwire serve`: an agent that opens its
 * stream and never reads is not sent command after command into memory.
 * Once write() returns false nothing more is claimed (commands wait in the
 * store, pending) and no heartbeat is written; a stream that stays undrained
 * is closed, and what it had not delivered goes back to pending.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { startServe } from '../support/keepwire-process.ts';
import { listenerAddress, waitFor } from '../support/raw-socket.ts';

const COMMANDS = 100;
const BLOB = 'x'.repeat(200_000);

test('a stream that is not read stops being fed, is closed, and its commands stay pending', async () => {
  const server = await startServe({ env: { KEEPWIRE_AGENTS__HEARTBEAT_MS: '100' } });
  const headers = {
    authorization: `Bearer ${server.adminToken}`,
    'content-type': 'application/json',
  };
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.adminUrl}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return (await response.json()) as Record<string, unknown>;
  };
  const agent = (await api('POST', '/v1/agents', { name: 'slow-reader' })) as {
    id: string;
    token: string;
  };
  for (let i = 0; i < COMMANDS; i++) {
    await api('POST', '/v1/commands', {
      target: { type: 'agent', id: agent.id },
      action: { name: 'big', args: { blob: BLOB } },
    });
  }
  const { host, port } = listenerAddress(server.dataDir, 'agents');
  const reader = connect(port, host);
  reader.pause(); // never reads
  reader.on('error', () => {});
  try {
    reader.write(
      `GET /v1/commands/stream HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${agent.token}\r\n\r\n`,
    );
    const isConnected = async () => {
      const { agents } = (await api('GET', '/v1/agents')) as {
        agents: { id: string; connected: boolean }[];
      };
      return agents.find((a) => a.id === agent.id)?.connected === true;
    };
    await waitFor('the stream to open', isConnected);
    await waitFor('the undrained stream to be closed', async () => !(await isConnected()));
    const counts: Record<string, number> = {};
    await waitFor('every command to be pending or sent', async () => {
      const { commands } = (await api(
        'GET',
        `/v1/commands?target=agent:${agent.id}&limit=1000`,
      )) as {
        commands: { status: string }[];
      };
      for (const key of Object.keys(counts)) delete counts[key];
      for (const command of commands) counts[command.status] = (counts[command.status] ?? 0) + 1;
      return (counts.pending ?? 0) + (counts.sent ?? 0) === COMMANDS;
    });
    // Only what fit in the socket's buffers left the store; the rest waited.
    assert.ok((counts.pending ?? 0) > 0, JSON.stringify(counts));
  } finally {
    reader.destroy();
    assert.equal(await server.stop(), 0);
  }
});
