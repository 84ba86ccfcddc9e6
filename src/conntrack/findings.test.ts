import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeSamples } from './findings.ts';
import { emptySkipCounts, type SocketSnapshot, type TcpSocket } from './socket.ts';
import type { TcpState } from './tcp-state.ts';

function sock(state: TcpState, fields: Partial<TcpSocket> = {}): TcpSocket {
  return {
    family: 4,
    state,
    localAddress: '10.0.0.1',
    localPort: 40000,
    remoteAddress: '10.0.0.9',
    remotePort: 9200,
    txQueue: 0,
    rxQueue: 0,
    timer: 0,
    retransmits: 0,
    uid: 0,
    inode: 0,
    ...fields,
  };
}

function snap(takenAt: number, sockets: TcpSocket[]): SocketSnapshot {
  return { takenAt, source: 'proc', attributed: true, sockets, skipped: emptySkipCounts() };
}

const context = { portRange: [32768, 60999] as [number, number], finTimeoutS: 60, somaxconn: 4096 };

test('close-wait-leak: only sockets seen in CLOSE_WAIT in consecutive samples, grouped by process and remote', () => {
  const held = { pid: 42, process: 'wazuh-modulesd' };
  const a = sock('CLOSE_WAIT', { inode: 1, localPort: 40001, ...held });
  const b = sock('CLOSE_WAIT', { inode: 2, localPort: 40002, ...held, heldSince: 1_000 });
  const fresh = sock('CLOSE_WAIT', { inode: 3, localPort: 40003, ...held });
  const other = sock('CLOSE_WAIT', { inode: 4, remotePort: 443, pid: 7, process: 'curl' });
  const findings = analyzeSamples(
    [
      snap(10_000, [a, sock('ESTABLISHED', { inode: 2 })]),
      snap(20_000, [a, b, other]),
      snap(30_000, [a, b, fresh, other]),
    ],
    context,
  );
  const leaks = findings.filter((f) => f.kind === 'close-wait-leak');
  assert.equal(leaks.length, 2);
  const wazuh = leaks.find((f) => f.pid === 42)!;
  assert.equal(wazuh.count, 2); // fresh was seen once: not yet a leak
  assert.equal(wazuh.remote, '10.0.0.9:9200');
  assert.equal(wazuh.oldestAgeMs, 20_000);
  assert.equal(wazuh.oldestHeldMs, 29_000);
  assert.deepEqual(wazuh.inodes.sort(), [1, 2]);
  assert.match(wazuh.advice, /wazuh-modulesd \(pid 42\)/);
  assert.match(wazuh.advice, /tcp_fin_timeout applies to FIN_WAIT2, not CLOSE_WAIT/);
  assert.match(wazuh.advice, /close\(\)/);
  assert.equal(leaks.find((f) => f.pid === 7)!.oldestAgeMs, 10_000);
});

test('close-wait-leak: a socket that left CLOSE_WAIT in between starts over', () => {
  const s = sock('CLOSE_WAIT', { inode: 9, pid: 1, process: 'x' });
  const findings = analyzeSamples(
    [snap(0, [s]), snap(1000, []), snap(2000, [s]), snap(3000, [s])],
    context,
  );
  assert.equal(findings[0]!.kind, 'close-wait-leak');
  assert.equal((findings[0] as { oldestAgeMs: number }).oldestAgeMs, 1000);
  assert.deepEqual(analyzeSamples([snap(0, [s])], context), []);
});

test('time-wait-pressure: per destination against the port range, and who closes first', () => {
  const client = Array.from({ length: 9000 }, (_, i) =>
    sock('TIME_WAIT', { localPort: 32768 + i }),
  );
  const server = Array.from({ length: 3000 }, (_, i) =>
    sock('TIME_WAIT', { localPort: 443, remoteAddress: '10.9.9.9', remotePort: 50000 + i }),
  );
  const listen = sock('LISTEN', {
    localPort: 443,
    remoteAddress: '0.0.0.0',
    remotePort: 0,
    inode: 5,
  });
  const findings = analyzeSamples([snap(0, [...client, ...server, listen])], context);
  const pressure = findings.filter((f) => f.kind === 'time-wait-pressure');
  const toIndexer = pressure.find((f) => f.closer === 'client')!;
  assert.equal(toIndexer.remote, '10.0.0.9:9200');
  assert.equal(toIndexer.count, 9000);
  assert.equal(toIndexer.portRangeSize, 28232);
  assert.equal(toIndexer.severity, 'warn');
  assert.match(toIndexer.advice, /keep-alive/);
  assert.match(toIndexer.advice, /Never tcp_tw_recycle/);
  const onServer = pressure.find((f) => f.closer === 'server')!;
  assert.equal(onServer.localPort, 443);
  assert.equal(onServer.count, 3000);
  // Below 10% of the range nothing is reported unless asked.
  assert.equal(analyzeSamples([snap(0, client.slice(0, 100))], context).length, 0);
  assert.equal(
    analyzeSamples([snap(0, client.slice(0, 100))], { ...context, timeWaitMinCount: 50 }).length,
    1,
  );
});

test('syn-backlog-pressure and fin-wait2 orphans', () => {
  const listen = sock('LISTEN', { localPort: 8080, rxQueue: 129, backlog: 128, inode: 5 });
  const quiet = sock('LISTEN', { localPort: 8081, rxQueue: 0, backlog: 128, inode: 6 });
  const synRecv = Array.from({ length: 10 }, (_, i) =>
    sock('SYN_RECV', { localPort: 8080, remotePort: 1000 + i }),
  );
  const orphans = [
    sock('FIN_WAIT2'),
    sock('FIN_WAIT2', { localPort: 40001 }),
    sock('FIN_WAIT2', { inode: 77 }),
  ];
  const findings = analyzeSamples([snap(0, [listen, quiet, ...synRecv, ...orphans])], context);
  const syn = findings.find((f) => f.kind === 'syn-backlog-pressure')!;
  assert.equal(syn.severity, 'critical');
  assert.equal(syn.localPort, 8080);
  assert.equal(syn.acceptQueue, 129);
  assert.equal(syn.synRecv, 10);
  assert.equal(findings.filter((f) => f.kind === 'syn-backlog-pressure').length, 1);
  const fin = findings.find((f) => f.kind === 'fin-wait2-orphans')!;
  assert.equal(fin.count, 2); // the one with an inode is held by a process, not orphaned
  assert.equal(fin.finTimeoutS, 60);
  assert.match(fin.advice, /tcp_fin_timeout \(60 s\)/);
});
