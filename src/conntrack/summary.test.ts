import assert from 'node:assert/strict';
import { test } from 'node:test';
import { takeSnapshot, takeStateCounts } from './snapshot.ts';
import { emptySkipCounts, type SocketSnapshot, type TcpSocket } from './socket.ts';
import { summarizeCounts, summarizeSnapshot } from './summary.ts';
import type { TcpState } from './tcp-state.ts';

function sock(state: TcpState, fields: Partial<TcpSocket> = {}): TcpSocket {
  return {
    family: 4,
    state,
    localAddress: '127.0.0.1',
    localPort: 8080,
    remoteAddress: '10.0.0.2',
    remotePort: 50000,
    txQueue: 0,
    rxQueue: 0,
    timer: 0,
    retransmits: 0,
    uid: 0,
    inode: 1,
    ...fields,
  };
}

const snapshot: SocketSnapshot = {
  takenAt: Date.UTC(2026, 0, 1),
  source: 'proc',
  attributed: true,
  skipped: emptySkipCounts(),
  sockets: [
    sock('LISTEN', { remoteAddress: '0.0.0.0', remotePort: 0, pid: 10, process: 'nginx' }),
    sock('ESTABLISHED', { pid: 10, process: 'nginx' }),
    sock('CLOSE_WAIT', { pid: 20, process: 'curl', localPort: 40000, remotePort: 9200 }),
    sock('CLOSE_WAIT', { pid: 20, process: 'curl', localPort: 40001, remotePort: 9200 }),
    sock('TIME_WAIT', { inode: 0, localPort: 40002, remotePort: 9200 }),
    sock('ESTABLISHED', {
      family: 6,
      localAddress: '::1',
      remoteAddress: '::1',
      pid: 20,
      process: 'curl',
    }),
  ],
};

test('groups by process, remote, local port and state, largest first', () => {
  const byProcess = summarizeSnapshot(snapshot, { by: 'process' });
  assert.equal(byProcess.total, 6);
  assert.deepEqual(byProcess.groups, [
    { pid: 20, process: 'curl', count: 3, states: { CLOSE_WAIT: 2, ESTABLISHED: 1 } },
    { pid: 10, process: 'nginx', count: 2, states: { LISTEN: 1, ESTABLISHED: 1 } },
  ]);
  assert.equal(byProcess.unattributed, 1);
  const byRemote = summarizeSnapshot(snapshot, { by: 'remote', top: 2 });
  assert.deepEqual(byRemote.groups![0], {
    remote: '10.0.0.2:9200',
    count: 3,
    states: { CLOSE_WAIT: 2, TIME_WAIT: 1 },
  });
  assert.equal(byRemote.groups!.length, 2);
  assert.equal(byRemote.groupCount, 4);
  assert.ok(
    summarizeSnapshot(snapshot, { by: 'remote' }).groups!.some(
      (g) => 'remote' in g && g.remote === '[::1]:50000',
    ),
  );
  assert.deepEqual(summarizeSnapshot(snapshot, { by: 'local-port' }).groups![0], {
    localPort: 8080,
    count: 3,
    states: { LISTEN: 1, ESTABLISHED: 2 },
  });
  assert.deepEqual(summarizeSnapshot(snapshot, { by: 'state' }).groups![0], {
    state: 'CLOSE_WAIT',
    count: 2,
  });
});

test('filters by state and by local or remote port; every state is a key', () => {
  const cw = summarizeSnapshot(snapshot, { state: 'CLOSE_WAIT', by: 'process' });
  assert.equal(cw.total, 2);
  assert.deepEqual(cw.filter, { state: 'CLOSE_WAIT' });
  assert.equal(Object.keys(cw.states).length, 11);
  assert.equal(cw.states.ESTABLISHED, 0);
  const port = summarizeSnapshot(snapshot, { port: 9200 });
  assert.equal(port.total, 3);
  assert.equal(port.groups, undefined);
  assert.equal(summarizeSnapshot(snapshot, { port: 40001 }).total, 1);
  assert.deepEqual(JSON.parse(JSON.stringify(cw)), cw);
});

test('the counting fast path gives the same object as a full snapshot', async () => {
  const [counts, full] = await Promise.all([
    takeStateCounts({ blocking: true }),
    takeSnapshot({ blocking: true }),
  ]);
  const fast = summarizeCounts(counts);
  const slow = summarizeSnapshot(full);
  assert.deepEqual(Object.keys(fast), Object.keys(slow));
  assert.equal(fast.source, 'netlink');
  // Sockets come and go on a shared machine (other tests open and close
  // thousands at a time): the totals are close, not equal.
  const close = (a: number, b: number) => Math.abs(a - b) <= Math.max(50, 0.1 * b);
  assert.ok(close(fast.total, slow.total), `${fast.total} vs ${slow.total}`);
  for (const backend of ['proc', 'ss'] as const) {
    const other = summarizeCounts(await takeStateCounts({ backend, blocking: true }));
    assert.equal(other.source, backend);
    assert.ok(close(other.total, slow.total), `${backend}: ${other.total} vs ${slow.total}`);
  }
});
