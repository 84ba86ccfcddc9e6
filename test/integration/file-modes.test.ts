/**
 * Files that hold events or commands are created private, on a real
 * `keepwire serve` under the usual umask (022): the command store 0600 (its
 * WAL too), the file sink's output 0640.
 */
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startServe } from '../support/keepwire-process.ts';
import { listenerAddress, waitFor } from '../support/raw-socket.ts';

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

test('control.db is created 0600 and out/events.ndjson 0640', async () => {
  const previous = process.umask(0o022);
  const server = await startServe();
  process.umask(previous);
  try {
    const { host, port } = listenerAddress(server.dataDir, 'events');
    const response = await fetch(`http://${host}:${port}/v1/events`, {
      method: 'POST',
      body: '{"secret":1}\n',
    });
    assert.equal(response.status, 200);
    const events = join(server.dataDir, 'out', 'events.ndjson');
    await waitFor('the file sink to write', () => existsSync(events) && statSync(events).size > 0);
    assert.equal(mode(events), '640');
    assert.equal(mode(join(server.dataDir, 'control.db')), '600');
    assert.equal(mode(join(server.dataDir, 'control.db-wal')), '600');
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
