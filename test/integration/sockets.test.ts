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
    const ssHolders = new Map<number, { process: string; count: number }>();
    for (const s of ss) {
      if (s.pid === undefined) continue;
      const holder = ssHolders.get(s.pid) ?? { process: s.process!, count: 0 };
      holder.count += 1;
      ssHolders.set(s.pid, holder);
    }
    const groups = summary.groups.map((g: { pid: number; process: string; count: number }) => [
      g.pid,
      { process: g.process, count: g.count },
    ]);
    assert.deepEqual(new Map(groups), ssHolders);
    assert.ok(ssHolders.has(process.pid), 'ss sees this test process');
    assert.equal(summary.unattributed, 1, 'the TIME_WAIT socket belongs to no process');

    // The kernel-filtered path (ss state ... -D -) agrees too.
    for (const [state, flag] of [
      ['CLOSE_WAIT', 'close-wait'],
      ['TIME_WAIT', 'TIME_WAIT'],
      ['FIN_WAIT2', 'fin-wait-2'],
      ['LISTEN', 'listen'],
    ] as const) {
      const one = await runCli(['sockets', '--state', flag, '--port', String(port), '--json']);
      assert.equal(one.code, 0, one.stderr);
      const parsed = JSON.parse(one.stdout);
      assert.equal(parsed.total, EXPECTED[state], state);
      assert.equal(parsed.states[state], EXPECTED[state], state);
      assert.equal(parsed.source, 'netlink');
    }
  });
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
