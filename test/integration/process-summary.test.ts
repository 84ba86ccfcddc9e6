/**
 * The `--by process` fast path (summarizeProcesses: the dump as columns, no
 * socket object) against the general path (takeSnapshot with attribution,
 * then summarizeSnapshot), on real sockets in every state over IPv4, IPv6
 * and IPv4-mapped IPv6: the same object for every socket, for each state the
 * kernel filters, and for the search split over worker threads. Only sockets
 * on the test's own port are compared.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { summarizeProcesses } from '../../src/conntrack/process-summary.ts';
import { takeSnapshot } from '../../src/conntrack/snapshot.ts';
import { type SocketSummary, summarizeSnapshot } from '../../src/conntrack/summary.ts';
import type { TcpState } from '../../src/conntrack/tcp-state.ts';
import { EXPECTED, openEveryState, settle, sortKeys } from './every-state-sockets.ts';

/** What the two paths must agree on: everything but the moment and the race counts. */
function comparable(summary: SocketSummary): unknown {
  return { ...summary, takenAt: undefined, skipped: undefined };
}

for (const [host, connectHost] of [
  ['127.0.0.1', '127.0.0.1'],
  ['::1', '::1'],
  ['::', '127.0.0.1'],
] as const) {
  test(`by process over ${host} from ${connectHost}: the fast path answers as the general one`, async (t) => {
    const { server, port, sockets } = await openEveryState(host, connectHost);
    t.after(() => {
      for (const s of sockets) s.destroy();
      server.close();
    });
    await settle(port, sortKeys(EXPECTED));
    const states: (TcpState | undefined)[] = [undefined, 'CLOSE_WAIT', 'ESTABLISHED', 'LISTEN'];
    for (const [i, state] of [...states, 'TIME_WAIT' as const].entries()) {
      // Every other question splits the fd scan or search over worker threads.
      const workers = i % 2 === 1;
      const before = process.env.KEEPWIRE_FD_SCAN_WORKERS_FROM;
      if (workers) process.env.KEEPWIRE_FD_SCAN_WORKERS_FROM = '0';
      try {
        const fast = await summarizeProcesses({ state, port, blocking: true });
        const snapshot = await takeSnapshot({
          attribute: true,
          blocking: true,
          states: state === undefined ? undefined : [state],
        });
        const general = summarizeSnapshot(snapshot, { by: 'process', state, port });
        assert.deepEqual(comparable(fast), comparable(general), `${state ?? 'every state'}`);
        const total = state === undefined ? 8 : EXPECTED[state as keyof typeof EXPECTED];
        assert.equal(fast.total, total, `${state ?? 'every state'}`);
        const mine = fast.groups?.find((g) => 'pid' in g && g.pid === process.pid);
        if (state !== 'TIME_WAIT') assert.ok(mine, `${state}: this process holds its sockets`);
      } finally {
        if (workers) {
          if (before === undefined) delete process.env.KEEPWIRE_FD_SCAN_WORKERS_FROM;
          else process.env.KEEPWIRE_FD_SCAN_WORKERS_FROM = before;
        }
      }
    }
  });
}
