/**
 * `keepwire sockets` against real loopback sockets in every state a test can
 * produce, over IPv4 and IPv6, checked against `ss -tanpH` taken at the same
 * moment. Only sockets on this test's own listening port are compared, so the
 * rest of the machine (other tests included) does not matter.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../support/keepwire-process.ts';
import {
  countStates,
  EXPECTED,
  nonZero,
  openEveryState,
  settle,
  sortKeys,
  ssOnPort,
} from './every-state-sockets.ts';

for (const [host, connectHost] of [
  ['127.0.0.1', '127.0.0.1'],
  ['::1', '::1'],
  ['::', '127.0.0.1'], // IPv4-mapped IPv6 on the server side
] as const) {
  test(`sockets over ${host} from ${connectHost}: every state, counts and attribution match ss -tanpH`, async (t) => {
    const { server, port, sockets } = await openEveryState(host, connectHost);
    t.after(() => {
      for (const s of sockets) s.destroy();
      server.close();
    });
    await settle(port, sortKeys(EXPECTED));

    const [cli, ss] = await Promise.all([
      runCli(['sockets', '--port', String(port), '--by', 'process', '--json']),
      ssOnPort(port),
    ]);
    assert.equal(cli.code, 0, cli.stderr);
    const summary = JSON.parse(cli.stdout);
    assert.deepEqual(sortKeys(nonZero(summary.states)), sortKeys(countStates(ss)));
    assert.equal(summary.total, ss.length);
    assert.equal(summary.total, 8);
    assert.equal(summary.source, 'netlink', 'the default backend');
    assert.equal(summary.states.SYN_SENT, 0, 'every kernel state is a key');

    // Attribution: the same pid, name and socket count as ss -p.
    assert.deepEqual(holders(summary), ssHolders(ss));
    assert.ok(ssHolders(ss).has(process.pid), 'ss sees this test process');
    assert.equal(summary.unattributed, 1, 'the TIME_WAIT socket belongs to no process');

    // The kernel-filtered path (ss state ... -D -) agrees too, and so does the
    // search for the holders of that state's sockets alone (--by process):
    // the holders ss -p names for the sockets in that state. Every other
    // state splits the search over worker threads, as on a big host.
    for (const [i, [state, flag]] of (
      [
        ['CLOSE_WAIT', 'close-wait'],
        ['TIME_WAIT', 'TIME_WAIT'],
        ['FIN_WAIT2', 'fin-wait-2'],
        ['LISTEN', 'listen'],
        ['ESTABLISHED', 'established'],
      ] as const
    ).entries()) {
      const one = await runCli(['sockets', '--state', flag, '--port', String(port), '--json']);
      assert.equal(one.code, 0, one.stderr);
      const parsed = JSON.parse(one.stdout);
      assert.equal(parsed.total, EXPECTED[state], state);
      assert.equal(parsed.states[state], EXPECTED[state], state);
      assert.equal(parsed.source, 'netlink');
      const [byProcess, ssNow] = await Promise.all([
        runCli(['sockets', '--state', flag, '--by', 'process', '--port', String(port), '--json'], {
          env: i % 2 === 0 ? { KEEPWIRE_FD_SCAN_WORKERS_FROM: '0' } : {},
        }),
        ssOnPort(port),
      ]);
      assert.equal(byProcess.code, 0, byProcess.stderr);
      const attributed = JSON.parse(byProcess.stdout);
      const inState = ssNow.filter((s) => s.state === state);
      assert.equal(attributed.total, EXPECTED[state], state);
      assert.deepEqual(holders(attributed), ssHolders(inState), state);
      assert.equal(
        attributed.unattributed,
        inState.filter((s) => s.pid === undefined).length,
        state,
      );
    }
  });
}

type Holders = Map<number, { process: string; count: number }>;

function ssHolders(ss: Awaited<ReturnType<typeof ssOnPort>>): Holders {
  const holders: Holders = new Map();
  for (const s of ss) {
    if (s.pid === undefined) continue;
    const holder = holders.get(s.pid) ?? { process: s.process!, count: 0 };
    holder.count += 1;
    holders.set(s.pid, holder);
  }
  return holders;
}

function holders(summary: { groups: { pid: number; process: string; count: number }[] }): Holders {
  return new Map(summary.groups.map((g) => [g.pid, { process: g.process, count: g.count }]));
}

test('sockets: text output, --by remote and usage errors', async () => {
  const text = await runCli(['sockets', '--by', 'state']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^TCP sockets: \d+/);
  assert.match(text.stdout, /Largest groups by state/);
  const bad = await runCli(['sockets', '--state', 'half-open']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown TCP state "half-open"; use one of: established, syn-sent/);
  const badBy = await runCli(['sockets', '--by', 'user']);
  assert.equal(badBy.code, 2);
  assert.match(badBy.stderr, /--by takes one of process, remote, local-port, state/);
  const watch = await runCli(['sockets', '--watch']);
  assert.equal(watch.code, 2);
  assert.match(watch.stderr, /stdout is not one; add --count N/);
  const bounded = await runCli([
    'sockets',
    '--watch',
    '--count',
    '2',
    '--interval-ms',
    '100',
    '--json',
  ]);
  assert.equal(bounded.code, 0, bounded.stderr);
  const lines = bounded.stdout.trim().split('\n');
  assert.equal(lines.length, 2);
  for (const line of lines) assert.equal(typeof JSON.parse(line).total, 'number');
  const help = await runCli(['sockets', '--help']);
  assert.match(help.stdout, /Examples:\n {2}keepwire sockets/);
});
