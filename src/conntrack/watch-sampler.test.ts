/**
 * Light samples' counts of ESTABLISHED and TIME_WAIT from the kernel's
 * counters (tcp-counters.ts), against a /proc whose net/snmp and
 * net/sockstat the test writes, with the real socket dump; and the full
 * sample's check of whether CurrEstab counts CLOSE_WAIT.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readTcpCounters } from './tcp-counters.ts';
import { WatchSampler } from './watch-sampler.ts';

function fakeProc(currEstab: number, timeWait: number): string {
  const root = mkdtempSync(join(tmpdir(), 'kw-fake-proc-'));
  mkdirSync(join(root, 'net'));
  writeFileSync(
    join(root, 'net/snmp'),
    'Ip: Forwarding DefaultTTL\nIp: 1 64\n' +
      'Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs\n' +
      `Tcp: 1 200 120000 -1 10 10 0 0 ${currEstab} 99\n`,
  );
  writeFileSync(
    join(root, 'net/sockstat'),
    `sockets: used 9\nTCP: inuse 4 orphan 0 tw ${timeWait} alloc 5 mem 1\nUDP: inuse 0 mem 0\n`,
  );
  return root;
}

/** Two connections whose server closed first: this process holds both client ends in CLOSE_WAIT. */
async function closeWaitPair(): Promise<() => void> {
  const accepted: Socket[] = [];
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    accepted.push(socket);
    socket.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const clients: Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const client = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    clients.push(client);
    await once(client, 'end');
  }
  return () => {
    for (const socket of [...clients, ...accepted]) socket.destroy();
    server.close();
  };
}

test('readTcpCounters reads CurrEstab and tw, and gives up on a /proc without them', () => {
  const root = fakeProc(1234, 56);
  assert.deepEqual(readTcpCounters(root), { currEstab: 1234, timeWait: 56 });
  rmSync(join(root, 'net/sockstat'));
  assert.equal(readTcpCounters(root), undefined);
  const real = readTcpCounters();
  assert.ok(real !== undefined && real.currEstab >= 0 && real.timeWait >= 0);
});

test('light samples count ESTABLISHED and TIME_WAIT from the counters, as the full sample calibrated them', async (t) => {
  t.after(await closeWaitPair());
  // CurrEstab far above the host's ESTABLISHED: the full sample finds CLOSE_WAIT counted in it.
  const high = new WatchSampler({
    attribute: false,
    rescanSlices: 1,
    fullSampleMs: 3_600_000,
    procRoot: fakeProc(1_000_000, 77),
  });
  t.after(() => high.close());
  const full = await high.take();
  assert.equal(full.fresh, undefined);
  const light = await high.take();
  assert.ok(light.fresh, 'light');
  const counts = light.snapshot.counts!;
  assert.equal(counts.TIME_WAIT, 77);
  assert.ok(counts.CLOSE_WAIT >= 2);
  assert.equal(
    counts.ESTABLISHED + counts.CLOSE_WAIT,
    1_000_000,
    'CLOSE_WAIT taken out of CurrEstab',
  );
  for (const socket of light.fresh)
    assert.ok(socket.state !== 'ESTABLISHED' && socket.state !== 'TIME_WAIT');

  // CurrEstab of 0: closer to ESTABLISHED alone, so CLOSE_WAIT is not taken out of it.
  const low = new WatchSampler({
    attribute: false,
    rescanSlices: 1,
    fullSampleMs: 3_600_000,
    procRoot: fakeProc(0, 5),
  });
  t.after(() => low.close());
  await low.take();
  const lowCounts = (await low.take()).snapshot.counts!;
  assert.equal(lowCounts.ESTABLISHED, 0);
  assert.equal(lowCounts.TIME_WAIT, 5);
});
