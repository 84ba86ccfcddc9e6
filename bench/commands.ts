/**
 * Command distribution at scale: a real `keepwire serve` and a load
 * generator process (bench/agent-load.ts) holding N long-polling agents
 * (default 10,000) on loopback. Measures, against the issue's targets:
 *
 *   latency   creation (POST on the admin listener) -> receipt by the agent, p50/p99   (p99 < 20 ms)
 *   group     one group command to all N agents, fully received                      (< 2 s)
 *   idle      server CPU over 10 s and RSS with N agents waiting                      (< 5% of a core, < 1 GiB)
 *   storm     every agent disconnects at once: waiters gauge at 0, no CLOSE_WAIT      (< 1 s, 0)
 *
 * Reproduce: bench/commands.sh [--agents 10000] [--rounds 3] [--samples 300]
 * (the wrapper raises the fd limit; `node bench/commands.ts` works when it is high enough).
 * The server's agents listener is allowed every agent (agents.maxConnections;
 * its default, 1,024, would refuse most of them), and every wait has a time
 * limit (deadline.ts), so a run that cannot go on stops and says why.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { generateToken, hashToken } from '../src/auth/token.ts';
import { SqliteStore } from '../src/control/store/sqlite/sqlite-store.ts';
import { UuidV7Generator } from '../src/control/uuid-v7.ts';
import { startAgentLoad } from './agent-load-receipts.ts';
import { abortRun, phase, waitUntil } from './deadline.ts';

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '3' },
    samples: { type: 'string', default: '300' },
    'idle-s': { type: 'string', default: '10' },
  },
});
const N = Number(values.agents);
const ROUNDS = Number(values.rounds);
const SAMPLES = Number(values.samples);
const IDLE_S = Number(values['idle-s']);
const now = () => performance.timeOrigin + performance.now();
const CLI = new URL('../src/cli/main.ts', import.meta.url).pathname;
const TICKS = 100; // USER_HZ on Linux

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

const dataDir = mkdtempSync(join(tmpdir(), 'kw-bench-commands-'));
const children: ChildProcess[] = [];
process.on('exit', () => {
  // A run stopped by a time limit (deadline.ts) leaves no server behind.
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

// 1. N agents in group "all", enrolled straight into the store before the server opens it.
const store = new SqliteStore({ path: join(dataDir, 'control.db') });
const ids = new UuidV7Generator();
const agentIds: string[] = [];
const tokens: string[] = [];
for (let i = 0; i < N; i += 1) {
  const token = generateToken();
  const agent = await store.enrolAgent(
    { id: ids.next(), name: `bench-${i}`, tokenHash: hashToken(token), groups: ['all'] },
    Date.now(),
  );
  agentIds.push(agent.id);
  tokens.push(token);
}
await store.close();
writeFileSync(join(dataDir, 'tokens.txt'), tokens.join('\n'));

// 2. The server.
const server = spawn(
  process.execPath,
  [CLI, 'serve', '--data-dir', dataDir, '--admin', '127.0.0.1:0', '--agents', '127.0.0.1:0'],
  {
    env: {
      ...process.env,
      KEEPWIRE_WATCH__ENABLED: 'false',
      KEEPWIRE_PIPELINE__ENABLED: 'false',
      KEEPWIRE_LOG__LEVEL: 'warn',
      KEEPWIRE_AGENTS__MAX_CONNECTIONS: String(N + 100),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  },
);
children.push(server);
await waitUntil('the server to start (admin.addr)', 60, () => {
  if (server.exitCode !== null) abortRun(`the server exited while starting (${server.exitCode})`);
  return existsSync(join(dataDir, 'admin.addr'));
});
const adminAddr = readFileSync(join(dataDir, 'admin.addr'), 'utf8').trim();
const [agentsHost, agentsPort] = readFileSync(join(dataDir, 'agents.addr'), 'utf8')
  .trim()
  .split(':') as [string, string];
const adminToken = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
const admin = new Pool(`http://${adminAddr}`, {
  connections: 4,
  headersTimeout: 60_000,
  bodyTimeout: 60_000,
});
const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };

async function post(body: unknown): Promise<number> {
  const response = await admin.request({
    method: 'POST',
    path: '/v1/commands',
    headers,
    body: JSON.stringify(body),
  });
  await response.body.text();
  if (response.statusCode !== 201) throw new Error(`create answered ${response.statusCode}`);
  return response.statusCode;
}

async function waiters(): Promise<number> {
  const response = await admin.request({ method: 'GET', path: '/metrics' });
  const text = await response.body.text();
  return Number(/^keepwire_command_waiters\{kind="poll"\} (\d+)/m.exec(text)?.[1] ?? NaN);
}
const lostSockets = () =>
  `agent sockets lost (and reopened) ${load.lost()}: ${JSON.stringify(load.lostWhy())}`;

/** Waits until every agent has polled again after a delivery, so rounds do not overlap. */
async function settle(what: string): Promise<void> {
  let waiting = 0;
  await waitUntil(
    `every agent waiting ${what}`,
    120,
    async () => {
      waiting = await waiters();
      return waiting >= N;
    },
    () => `${waiting} of ${N} waiting; ${lostSockets()}`,
  );
  await sleep(200);
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}
const rssMiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

// 3. The load generator.
const load = startAgentLoad([agentsHost, agentsPort, join(dataDir, 'tokens.txt'), '1200']);
children.push(load.child);
const received = load.received;
const connectStarted = now();
await phase('connect the agents', 60 + N / 50, () => load.connected, lostSockets);
await settle('after connecting');
console.log(
  `${N} agents waiting after ${((now() - connectStarted) / 1000).toFixed(1)} s; ${lostSockets()}`,
);

// 4. Idle cost.
await sleep(1000);
const ticks0 = cpuTicks(server.pid!);
await sleep(IDLE_S * 1000);
const idleCpu = ((cpuTicks(server.pid!) - ticks0) / TICKS / IDLE_S) * 100;
const rss = rssMiB(server.pid!);

// 5. Creation -> receipt latency, one command at a time to a random agent.
const latencyRounds: { p50: number; p99: number }[] = [];
for (let round = 0; round < ROUNDS; round += 1) {
  const latencies: number[] = [];
  for (let i = 0; i < SAMPLES; i += 1) {
    const id = `lat-${round}-${i}`;
    const target = agentIds[Math.floor(Math.random() * N)]!;
    const started = now();
    await post({
      id,
      target: { type: 'agent', id: target },
      action: { name: 'ping' },
      timeoutS: 60,
    });
    await waitUntil(`command ${id} to arrive`, 30, () => received.has(id), lostSockets, 0);
    latencies.push(received.get(id)! - started);
  }
  latencyRounds.push({ p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) });
}

// 6. One group command to every agent.
const groupTimes: number[] = [];
const createTimes: number[] = [];
for (let round = 0; round < ROUNDS; round += 1) {
  const base = load.count();
  const started = now();
  await post({
    id: `group-${round}`,
    target: { type: 'group', id: 'all' },
    action: { name: 'ping' },
    timeoutS: 600,
  });
  createTimes.push(now() - started);
  await waitUntil(
    `group command ${round} to reach all ${N} agents`,
    120,
    () => load.count() - base >= N,
    () => `${load.count() - base} received; ${lostSockets()}`,
    5,
  );
  groupTimes.push(load.lastAt() - started);
  await settle(`after group round ${round}`);
}

// 7. Disconnect storm, from a steady state (every agent waiting again).
const stormed = new Promise<void>((resolve) =>
  load.child.on('message', (m: { type: string }) => m.type === 'stormed' && resolve()),
);
load.child.send({ type: 'storm' });
await phase('the disconnect storm', 60, () => stormed);
const stormStarted = now();
let left = await waiters();
while (left > 0 && now() - stormStarted < 10_000) {
  await sleep(10);
  left = await waiters();
}
const stormMs = now() - stormStarted;
await sleep(200);
const ss = execFileSync('ss', ['-tanpH', 'state', 'close-wait'], { encoding: 'utf8' });
const closeWait = ss.split('\n').filter((line) => line.includes(`pid=${server.pid},`)).length;

load.child.send({ type: 'stop' });
await admin.close();
server.kill('SIGTERM');
await phase('the server to stop after SIGTERM', 30, () =>
  server.exitCode === null
    ? new Promise((resolve) => server.once('exit', resolve))
    : Promise.resolve(),
);

const p50 = median(latencyRounds.map((r) => r.p50));
const p99 = median(latencyRounds.map((r) => r.p99));
const group = median(groupTimes);
console.log(
  `\ncommand distribution, ${N} long-polling agents on loopback (${ROUNDS} rounds, medians)`,
);
console.log(
  `  creation -> receipt   p50 ${p50.toFixed(2)} ms   p99 ${p99.toFixed(2)} ms   target p99 < 20 ms: ${verdict(p99 < 20)}`,
);
console.log(
  `     per round p50/p99: ${latencyRounds.map((r) => `${r.p50.toFixed(2)}/${r.p99.toFixed(2)}`).join(', ')} ms`,
);
console.log(
  `  group of ${N} delivered ${group.toFixed(0)} ms (create ${median(createTimes).toFixed(0)} ms)   target < 2000 ms: ${verdict(group < 2000)}`,
);
console.log(`     per round: ${groupTimes.map((t) => t.toFixed(0)).join(', ')} ms`);
console.log(
  `  idle server CPU      ${idleCpu.toFixed(2)} % of one core over ${IDLE_S} s   target < 5%: ${verdict(idleCpu < 5)}`,
);
console.log(
  `  idle server RSS      ${rss.toFixed(0)} MiB   target < 1024 MiB: ${verdict(rss < 1024)}`,
);
console.log(
  `  disconnect storm     waiters ${N} -> ${left} in ${stormMs.toFixed(0)} ms   target < 1000 ms: ${verdict(left === 0 && stormMs < 1000)}`,
);
console.log(`  CLOSE_WAIT on server ${closeWait}   target 0: ${verdict(closeWait === 0)}`);
process.exit(0);
