/**
 * The other findings of `keepwire sockets diagnose`, from real sockets:
 * a full accept queue (a child that listens with backlog 1 and never calls
 * accept()) and FIN_WAIT2 orphans (we close and let go, the peer never closes).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { runCli } from '../support/keepwire-process.ts';

// Listens with backlog 1, prints the port, then blocks its only thread so it never accepts.
const STUCK_LISTENER = `
const server = require('node:net').createServer();
server.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
  process.stdout.write(server.address().port + '\\n', () => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  });
});
`;

interface Finding {
  kind: string;
  severity: string;
  localPort?: number;
  acceptQueue?: number;
  backlog?: number;
  remote?: string;
  count: number;
  advice: string;
}

async function diagnoseFindings(): Promise<Finding[]> {
  const result = await runCli([
    'sockets',
    'diagnose',
    '--json',
    '--samples',
    '2',
    '--interval-ms',
    '100',
  ]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout).findings;
}

test('diagnose: syn-backlog-pressure on a listener whose accept queue is full', async (t) => {
  const child = spawn(process.execPath, ['-e', STUCK_LISTENER], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => child.kill('SIGKILL'));
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  const port = Number(chunk.toString().trim());
  const clients: Socket[] = [];
  t.after(() => {
    for (const c of clients) c.destroy();
  });
  // The kernel completes backlog + 1 handshakes on its own; the rest wait in SYN_SENT.
  for (let i = 0; i < 4; i++) {
    const client = connect({ host: '127.0.0.1', port });
    client.on('error', () => {});
    clients.push(client);
  }
  await Promise.all(clients.slice(0, 2).map((c) => once(c, 'connect')));

  const finding = (await diagnoseFindings()).find(
    (f) => f.kind === 'syn-backlog-pressure' && f.localPort === port,
  );
  assert.ok(finding, 'no syn-backlog-pressure finding for the stuck listener');
  assert.equal(finding.severity, 'critical');
  assert.equal(finding.backlog, 1);
  assert.ok(finding.acceptQueue! >= 1);
  assert.match(finding.advice, /accept\(\)/);
});

test('diagnose: fin-wait2-orphans when we close and the peer never does', async (t) => {
  const server = createServer({ allowHalfOpen: true }, (socket) => socket.destroy());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const client = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  t.after(() => {
    client.destroy();
    server.close();
  });
  await once(client, 'end'); // our FIN arrived; the client keeps its side open (CLOSE_WAIT)

  const findings = await diagnoseFindings();
  const orphans = findings.find(
    (f) => f.kind === 'fin-wait2-orphans' && f.remote === `127.0.0.1:${client.localPort}`,
  );
  assert.ok(orphans, `no fin-wait2-orphans toward the client: ${JSON.stringify(findings)}`);
  assert.equal(orphans.count, 1);
  assert.match(orphans.advice, /tcp_fin_timeout \(\d+ s\)/);
  assert.ok(
    findings.some((f) => f.kind === 'close-wait-leak' && f.remote === `127.0.0.1:${port}`),
    'the client side is the matching CLOSE_WAIT leak',
  );
});
