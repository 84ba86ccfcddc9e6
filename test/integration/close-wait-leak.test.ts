/**
 * A real CLOSE-WAIT leak owned by a child process: it connects to a server
 * this test runs, the server closes, the child never does. `keepwire sockets
 * diagnose` and a real `keepwire serve` (/v1/sockets, /v1/sockets/findings,
 * /metrics) must name that child's pid and process.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli, startServe } from '../support/keepwire-process.ts';

// The leaky client: half-open allowed, ignores the peer's FIN, never closes.
const LEAKER = `
const net = require('node:net');
const socket = net.connect({ host: '127.0.0.1', port: Number(process.argv[1]), allowHalfOpen: true });
socket.on('connect', () => process.stdout.write('connected ' + socket.localPort + '\\n'));
socket.on('end', () => process.stdout.write('eof\\n'));
setInterval(() => {}, 1000);
`;

interface Leak {
  pid: number;
  /** The kernel's command name (/proc/PID/comm; Node.js 24 names its main thread "MainThread"). */
  comm: string;
  port: number;
  remote: string;
  stop(): void;
}

async function startLeak(): Promise<Leak> {
  const accepted: Socket[] = [];
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    accepted.push(socket);
    socket.end(); // the server closes first; the child must close its side and never does
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const child = spawn(process.execPath, ['-e', LEAKER, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const deadline = Date.now() + 10_000;
  while (!output.includes('eof')) {
    if (Date.now() > deadline) throw new Error(`the leaking child did not get EOF: ${output}`);
    await sleep(20);
  }
  return {
    pid: child.pid!,
    comm: readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim(),
    port,
    remote: `127.0.0.1:${port}`,
    stop() {
      child.kill('SIGKILL');
      for (const s of accepted) s.destroy();
      server.close();
    },
  };
}

interface LeakFinding {
  kind: string;
  severity: string;
  pid: number;
  process: string;
  remote: string;
  count: number;
  oldestAgeMs: number;
  oldestHeldMs?: number;
  advice: string;
}

function findLeak(findings: LeakFinding[], leak: Leak): LeakFinding | undefined {
  return findings.find((f) => f.kind === 'close-wait-leak' && f.remote === leak.remote);
}

test('diagnose names the child process that holds a CLOSE-WAIT socket', async (t) => {
  const leakFrom = Date.now();
  const leak = await startLeak();
  t.after(() => leak.stop());
  const result = await runCli([
    'sockets',
    'diagnose',
    '--json',
    '--samples',
    '3',
    '--interval-ms',
    '300',
  ]);
  assert.equal(result.code, 0, result.stderr);
  const diagnosis = JSON.parse(result.stdout);
  assert.equal(diagnosis.samples, 3);
  const finding = findLeak(diagnosis.findings, leak);
  assert.ok(finding, `no close-wait-leak toward ${leak.remote}: ${result.stdout}`);
  assert.equal(finding.pid, leak.pid);
  assert.equal(finding.process, leak.comm);
  assert.equal(finding.count, 1);
  assert.ok(['warn', 'critical'].includes(finding.severity));
  assert.ok(finding.oldestAgeMs >= 500, `observed for ${finding.oldestAgeMs} ms`);
  // The kernel creates /proc/PID/fd/N when it is first looked up: by the first sample's fd scan at
  // the latest (however long a loaded host makes that scan), after the socket was opened. So the
  // process has held it since before the last sample, and for no longer than the leak exists.
  const held = finding.oldestHeldMs!;
  assert.ok(held >= 0 && held <= Date.now() - leakFrom, `held ${held} ms`);
  assert.match(finding.advice, new RegExp(`${leak.comm} \\(pid ${leak.pid}\\)`));
  assert.match(finding.advice, /tcp_fin_timeout applies to FIN_WAIT2, not CLOSE_WAIT/);

  const text = await runCli(['sockets', 'diagnose', '--samples', '2', '--interval-ms', '100']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(
    text.stdout,
    new RegExp(
      `close-wait-leak: 1 socket\\(s\\)\\n {2}evidence: .*${leak.comm} \\(pid ${leak.pid}\\)`,
    ),
  );
});

test('serve: /v1/sockets, /v1/sockets/findings and the metrics show the leak', async (t) => {
  const leak = await startLeak();
  t.after(() => leak.stop());
  const server = await startServe({ env: { KEEPWIRE_WATCH__INTERVAL_MS: '200' } });
  t.after(() => server.stop());
  const get = async (path: string) => {
    const response = await fetch(`${server.adminUrl}${path}`, {
      headers: { authorization: `Bearer ${server.adminToken}` },
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  let findings: LeakFinding[] = [];
  const deadline = Date.now() + 10_000;
  while (!findLeak(findings, leak)) {
    if (Date.now() > deadline)
      assert.fail(`serve never reported the leak: ${JSON.stringify(findings)}`);
    await sleep(100);
    const answer = await get('/v1/sockets/findings');
    if (answer.status === 200) findings = answer.body.findings as LeakFinding[];
  }
  const finding = findLeak(findings, leak)!;
  assert.equal(finding.pid, leak.pid);
  assert.equal(finding.process, leak.comm);

  const byProcess = await get(`/v1/sockets?state=close-wait&by=process&port=${leak.port}`);
  assert.equal(byProcess.status, 200);
  assert.equal(byProcess.body.total, 1);
  assert.deepEqual(byProcess.body.groups, [
    { pid: leak.pid, process: leak.comm, count: 1, states: { CLOSE_WAIT: 1 } },
  ]);
  const all = await get('/v1/sockets');
  assert.ok((all.body.states as Record<string, number>).CLOSE_WAIT! >= 1);
  const bad = await get('/v1/sockets?state=nonsense');
  assert.equal(bad.status, 400);
  assert.equal((bad.body.error as { code: string }).code, 'BAD_REQUEST');
  const anonymous = await fetch(`${server.adminUrl}/v1/sockets`);
  assert.equal(anonymous.status, 401);

  const metrics = await (await fetch(`${server.adminUrl}/metrics`)).text();
  assert.match(metrics, /^keepwire_tcp_sockets\{state="CLOSE_WAIT"\} [1-9]\d*$/m);
  assert.match(metrics, /^keepwire_tcp_sockets\{state="LISTEN"\} [1-9]\d*$/m);
  assert.match(
    metrics,
    new RegExp(
      `^keepwire_tcp_close_wait_sockets\\{pid="${leak.pid}",process="${leak.comm}"\\} 1$`,
      'm',
    ),
  );
  assert.match(metrics, /^keepwire_watch_samples_total [1-9]\d*$/m);

  // Once the child is gone its label disappears at the next sample: labels stay bounded.
  leak.stop();
  const gone = Date.now() + 5_000;
  for (;;) {
    const text = await (await fetch(`${server.adminUrl}/metrics`)).text();
    if (!text.includes(`pid="${leak.pid}"`)) break;
    if (Date.now() > gone) assert.fail('the dead process kept its close-wait label');
    await sleep(100);
  }
  assert.equal(await server.stop(), 0);
});
