/**
 * `keepwire sockets` against real loopback sockets in every state a test can
 * produce, over IPv4 and IPv6, checked against `ss -tanpH` taken at the same
 * moment. Only sockets on this test's own listening port are compared, so the
 * rest of the machine (other tests included) does not matter.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { runCli } from '../support/keepwire-process.ts';

const run = promisify(execFile);

interface SsSocket {
  state: string;
  localPort: number;
  remotePort: number;
  pid?: number;
  process?: string;
}

const SS_STATE: Record<string, string> = {
  ESTAB: 'ESTABLISHED',
  LISTEN: 'LISTEN',
  'CLOSE-WAIT': 'CLOSE_WAIT',
  'FIN-WAIT-2': 'FIN_WAIT2',
  'TIME-WAIT': 'TIME_WAIT',
  'FIN-WAIT-1': 'FIN_WAIT1',
  'LAST-ACK': 'LAST_ACK',
  'SYN-SENT': 'SYN_SENT',
  'SYN-RECV': 'SYN_RECV',
  CLOSING: 'CLOSING',
};

async function ssOnPort(port: number): Promise<SsSocket[]> {
  const { stdout } = await run('ss', ['-tanpH'], { maxBuffer: 1 << 28 });
  const sockets: SsSocket[] = [];
  for (const line of stdout.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 5) continue;
    const portOf = (endpoint: string) => Number(endpoint.slice(endpoint.lastIndexOf(':') + 1)) || 0;
    const socket: SsSocket = {
      state: SS_STATE[fields[0]!] ?? fields[0]!,
      localPort: portOf(fields[3]!),
      remotePort: portOf(fields[4]!),
    };
    if (socket.localPort !== port && socket.remotePort !== port) continue;
    const users = /users:\(\("([^"]+)",pid=(\d+),fd=\d+\)/.exec(line);
    if (users) {
      socket.process = users[1];
      socket.pid = Number(users[2]);
    }
    sockets.push(socket);
  }
  return sockets;
}

function countStates(sockets: SsSocket[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of sockets) counts[s.state] = (counts[s.state] ?? 0) + 1;
  return counts;
}

function nonZero(states: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(states).filter(([, n]) => n > 0));
}

/** LISTEN, 2x ESTABLISHED pairs, CLOSE_WAIT + FIN_WAIT2, TIME_WAIT on one port. */
async function openEveryState(
  host: string,
): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    socket.on('data', (data) => {
      const command = data.toString();
      if (command.includes('close-first')) socket.end(); // we close, the client never does
    });
    socket.on('end', () => socket.end()); // the client closed first: finish the close
  });
  server.listen(0, host);
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const open = async (allowHalfOpen: boolean) => {
    const client = connect({ host, port, allowHalfOpen });
    client.on('error', () => {});
    await once(client, 'connect');
    sockets.push(client);
    return client;
  };
  await open(false);
  await open(false);
  const halfOpen = await open(true); // -> CLOSE_WAIT here, FIN_WAIT2 on the server side
  halfOpen.write('close-first');
  const closer = await open(false); // -> TIME_WAIT: the client closes first
  closer.end();
  return { server, port, sockets };
}

async function settle(port: number, expected: Record<string, number>): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const states = countStates(await ssOnPort(port));
    if (JSON.stringify(sortKeys(states)) === JSON.stringify(sortKeys(expected))) return;
    if (Date.now() > deadline) assert.fail(`sockets never settled: ${JSON.stringify(states)}`);
    await sleep(50);
  }
}

const EXPECTED = { ESTABLISHED: 4, LISTEN: 1, CLOSE_WAIT: 1, FIN_WAIT2: 1, TIME_WAIT: 1 };

for (const host of ['127.0.0.1', '::1']) {
  test(`sockets over ${host}: every state, counts and attribution match ss -tanpH`, async (t) => {
    const { server, port, sockets } = await openEveryState(host);
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

    // The kernel-filtered path (ss state ...) agrees too.
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
      assert.equal(parsed.source, 'ss');
    }
  });
}

function sortKeys(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
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
