/**
 * Command distribution on three `keepwire serve` nodes sharing one
 * PostgreSQL store (a private cluster made for the run), with a load
 * generator process (bench/agent-load.ts) holding N long-polling agents
 * (default 9,000) spread evenly over the nodes. Measures, against issue 11:
 *
 *   latency   creation through node i mod 3 -> receipt, random agents, p50/p99   (p99 < 50 ms)
 *             (two thirds of the samples cross nodes: NOTIFY -> LISTEN -> claim)
 *   group     one group command to all N agents, fully received                 (< 3 s)
 *   create    commands created per second through one node (C clients, single
 *             commands to a component, nobody waiting), beside the same on a
 *             one-node SQLite `keepwire serve`, and their ratio
 *
 * Reproduce: flock /tmp/keepwire-bench.lock bench/commands-cluster.sh
 *   [--agents 9000] [--rounds 3] [--samples 300] [--create-s 5] [--clients 16]
 *   [--profile DIR] (a CPU profile of each node, written to DIR when it stops)
 *
 * Every phase has a time limit (deadline.ts): a run that cannot go on (a
 * node that does not start, agents the nodes refuse or drop, a command that
 * never arrives) stops with a line saying which phase, what it waited for
 * and what the nodes report, instead of waiting forever. Each node's agents
 * listener is allowed every agent (agents.maxConnections), since its default
 * cap (1,024) is below the 3,000 each node holds here.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { startPrivatePostgres } from '../test/support/private-postgres.ts';
import { startAgentLoad } from './agent-load-receipts.ts';
import { abortRun, phase, waitUntil } from './deadline.ts';
import { enrolAgents } from './enrol-postgres.ts';
import { median } from './median.ts';

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '9000' },
    rounds: { type: 'string', default: '3' },
    samples: { type: 'string', default: '300' },
    'create-s': { type: 'string', default: '5' },
    clients: { type: 'string', default: '16' },
    /** A directory for each node's V8 CPU profile (node --cpu-prof), written when it stops. */
    profile: { type: 'string' },
  },
});
const N = Number(values.agents);
const ROUNDS = Number(values.rounds);
const SAMPLES = Number(values.samples);
const CREATE_S = Number(values['create-s']);
const CLIENTS = Number(values.clients);
const NODES = 3;
/** Time limits, in seconds: generous, the machine may be saturated by other work. */
const LIMIT_S = {
  enrol: 120 + N / 20,
  nodeStart: 60,
  connect: 60 + N / 50,
  settle: 120,
  receipt: 30,
  group: 120,
  create: CREATE_S + 60,
  stop: 30,
};
const now = () => performance.timeOrigin + performance.now();
const CLI = new URL('../src/cli/main.ts', import.meta.url).pathname;

const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

const workDir = mkdtempSync(join(tmpdir(), 'kw-bench-cluster-'));
const children: ChildProcess[] = [];
const postgres = await startPrivatePostgres();
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  postgres.destroySync();
  rmSync(workDir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(1));
const storeUrl = await postgres.createDatabase('keepwire');

// 1. N agents in group "all", enrolled through the store before the nodes start.
const { agentIds, tokens } = await enrolAgents(storeUrl, N, LIMIT_S.enrol);
writeFileSync(join(workDir, 'tokens.txt'), tokens.join('\n'));

// 2. The nodes.
const ENV = {
  ...process.env,
  KEEPWIRE_WATCH__ENABLED: 'false',
  KEEPWIRE_PIPELINE__ENABLED: 'false',
  KEEPWIRE_LOG__LEVEL: 'warn',
  KEEPWIRE_AGENTS__MAX_CONNECTIONS: String(N + 100),
};

interface Node {
  child: ChildProcess;
  admin: Pool;
  headers: Record<string, string>;
  agentsPort: string;
}

async function startNode(name: string, store: string[]): Promise<Node> {
  const dataDir = join(workDir, name);
  const args = [CLI, 'serve', '--data-dir', dataDir, '--admin', '127.0.0.1:0'];
  const profile = values.profile ? ['--cpu-prof', '--cpu-prof-dir', values.profile] : [];
  const child = spawn(
    process.execPath,
    [...profile, ...args, '--agents', '127.0.0.1:0', ...store],
    {
      env: ENV,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  children.push(child);
  const ready = ['agents.addr', 'admin.addr', 'admin.token'].map((f) => join(dataDir, f));
  await waitUntil(`${name} to start (its address files)`, LIMIT_S.nodeStart, () => {
    if (child.exitCode !== null || child.signalCode !== null)
      abortRun(`${name} exited while starting (${child.exitCode ?? child.signalCode})`);
    return ready.every((path) => existsSync(path));
  });
  const adminAddr = readFileSync(join(dataDir, 'admin.addr'), 'utf8').trim();
  const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  return {
    child,
    admin: new Pool(`http://${adminAddr}`, {
      connections: CLIENTS,
      headersTimeout: 60_000,
      bodyTimeout: 60_000,
    }),
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    agentsPort: readFileSync(join(dataDir, 'agents.addr'), 'utf8').trim().split(':')[1]!,
  };
}

const nodes: Node[] = [];
for (let i = 0; i < NODES; i += 1) nodes.push(await startNode(`node-${i}`, ['--store', storeUrl]));

async function post(node: Node, body: unknown): Promise<void> {
  const response = await node.admin.request({
    method: 'POST',
    path: '/v1/commands',
    headers: node.headers,
    body: JSON.stringify(body),
  });
  await response.body.text();
  if (response.statusCode !== 201) throw new Error(`create answered ${response.statusCode}`);
}

async function metric(node: Node, pattern: RegExp): Promise<number> {
  const response = await node.admin.request({ method: 'GET', path: '/metrics' });
  const text = await response.body.text();
  return Number(pattern.exec(text)?.[1] ?? Number.NaN);
}
/**
 * How often the waits between phases read each node's /metrics. A scrape
 * with 3,000 open sockets costs a node tens of milliseconds of CPU (the
 * default process metrics list every descriptor and handle): read every
 * 20 ms, the first profiles showed it taking a fifth of each node's time.
 */
const SCRAPE_EVERY_MS = 250;
const WAITERS = /^keepwire_command_waiters\{kind="poll"\} (\d+)/m;
const REFUSED = /^keepwire_listener_connections_refused_total\{listener="agents"[^}]*\} (\d+)/m;

async function allWaiting(): Promise<number> {
  const counts = await Promise.all(nodes.map((node) => metric(node, WAITERS)));
  return counts.reduce((a, b) => a + b, 0);
}

/** What each node reports, for a message about a run that cannot go on. */
async function nodeStates(): Promise<string> {
  const states = await Promise.all(
    nodes.map(async (node, i) => {
      if (node.child.exitCode !== null || node.child.signalCode !== null)
        return `node-${i} exited (${node.child.exitCode ?? node.child.signalCode})`;
      const [waiting, refused] = await Promise.all([metric(node, WAITERS), metric(node, REFUSED)]);
      return `node-${i}: ${waiting} waiting, ${refused || 0} connections refused`;
    }),
  );
  return `${states.join('; ')}; ${lostSockets()}`;
}

const lostSockets = () =>
  `agent sockets lost (and reopened) ${load.lost()}: ${JSON.stringify(load.lostWhy())}`;

/**
 * Refused agents would be refused again on every reconnect: a run whose
 * nodes refuse connections stops at once, naming the setting.
 */
async function checkRefused(): Promise<void> {
  const refused = await Promise.all(nodes.map((node) => metric(node, REFUSED)));
  if (refused.every((n) => !(n > 0))) return;
  abortRun(`the nodes refused agent connections over agents.maxConnections: ${await nodeStates()}`);
}

/** Waits until every agent polls (again), so rounds do not overlap. */
async function settle(what: string): Promise<void> {
  await waitUntil(
    `every agent waiting ${what}`,
    LIMIT_S.settle,
    async () => {
      await checkRefused();
      return (await allWaiting()) >= N;
    },
    nodeStates,
    SCRAPE_EVERY_MS,
  );
  await sleep(200);
}

// 3. The load generator: agent i polls node i mod 3.
const ports = nodes.map((n) => n.agentsPort).join(',');
const load = startAgentLoad(['127.0.0.1', ports, join(workDir, 'tokens.txt'), '1200']);
children.push(load.child);
const received = load.received;
const connectStarted = now();
let isConnected = false;
void load.connected.then(() => {
  isConnected = true;
});
await waitUntil(
  `${N} agents to connect`,
  LIMIT_S.connect,
  async () => {
    await checkRefused();
    return isConnected;
  },
  nodeStates,
  SCRAPE_EVERY_MS,
);
await settle('after connecting');
console.log(
  `${N} agents waiting on ${NODES} nodes after ${((now() - connectStarted) / 1000).toFixed(1)} s; ${lostSockets()}`,
);
const lostBefore = load.lost();

// 4. Creation -> receipt, one command at a time, through node i mod 3 to a random agent.
const rounds: { p50: number; p99: number; crossP99: number }[] = [];
for (let round = 0; round < ROUNDS; round += 1) {
  const all: number[] = [];
  const cross: number[] = [];
  for (let i = 0; i < SAMPLES; i += 1) {
    const id = `lat-${round}-${i}`;
    const agent = Math.floor(Math.random() * N);
    const started = now();
    await post(nodes[i % NODES]!, {
      id,
      target: { type: 'agent', id: agentIds[agent] },
      action: { name: 'ping' },
      timeoutS: 60,
    });
    await waitUntil(
      `command ${id} to reach agent ${agent} (on node-${agent % NODES})`,
      LIMIT_S.receipt,
      () => received.has(id),
      nodeStates,
      0,
    );
    const latency = received.get(id)! - started;
    all.push(latency);
    if (agent % NODES !== i % NODES) cross.push(latency);
  }
  rounds.push({
    p50: quantile(all, 0.5),
    p99: quantile(all, 0.99),
    crossP99: quantile(cross, 0.99),
  });
  await settle(`after latency round ${round}`);
}

// 5. One group command to every agent, through node 0.
const groupTimes: number[] = [];
const groupCreate: number[] = [];
for (let round = 0; round < ROUNDS; round += 1) {
  const base = load.count();
  const started = now();
  await post(nodes[0]!, {
    id: `group-${round}`,
    target: { type: 'group', id: 'all' },
    action: { name: 'ping' },
    timeoutS: 600,
  });
  groupCreate.push(now() - started);
  await waitUntil(
    `group command ${round} to reach all ${N} agents`,
    LIMIT_S.group,
    () => load.count() - base >= N,
    async () => `${load.count() - base} received; ${await nodeStates()}`,
    5,
  );
  groupTimes.push(load.lastAt() - started);
  await settle(`after group round ${round}`);
}
const lostMeasuring = load.lost() - lostBefore;
load.child.send({ type: 'stop' });

// 6. Creations per second through one node: PostgreSQL node 0, then a one-node SQLite serve.
async function createRate(node: Node, label: string): Promise<number> {
  let count = 0;
  const until = now() + CREATE_S * 1000;
  await phase(
    `creations through one node (${label})`,
    LIMIT_S.create,
    () =>
      Promise.all(
        Array.from({ length: CLIENTS }, async (_, c) => {
          for (let i = 0; now() < until; i += 1) {
            await post(node, {
              id: `${label}-${c}-${i}`,
              target: { type: 'component', id: 'bench' },
              action: { name: 'ping' },
              timeoutS: 600,
            });
            count += 1;
          }
        }),
      ),
    () => `${count} created`,
  );
  return count / CREATE_S;
}
const pgRates: number[] = [];
for (let round = 0; round < ROUNDS; round += 1)
  pgRates.push(await createRate(nodes[0]!, `pg${round}`));
for (const node of nodes) {
  await node.admin.close();
  node.child.kill('SIGTERM');
}
const single = await startNode('single', []);
const sqliteRates: number[] = [];
for (let round = 0; round < ROUNDS; round += 1)
  sqliteRates.push(await createRate(single, `sq${round}`));
await single.admin.close();
single.child.kill('SIGTERM');
const running = () => children.filter((c) => c.exitCode === null && c.signalCode === null);
await waitUntil(
  'the nodes to stop after SIGTERM',
  LIMIT_S.stop,
  () => running().length === 0,
  () =>
    running()
      .map((c) => `pid ${c.pid} still running`)
      .join(', '),
);

const p99 = median(rounds.map((r) => r.p99));
const group = median(groupTimes);
const pgRate = median(pgRates);
const sqliteRate = median(sqliteRates);
console.log(
  `\n${NODES} nodes on one PostgreSQL, ${N} long-polling agents (${ROUNDS} rounds, medians)`,
);
console.log(
  `  creation -> receipt   p50 ${median(rounds.map((r) => r.p50)).toFixed(2)} ms   p99 ${p99.toFixed(2)} ms   target p99 < 50 ms: ${verdict(p99 < 50)}`,
);
console.log(
  `     per round p50/p99 (p99 across nodes): ${rounds.map((r) => `${r.p50.toFixed(2)}/${r.p99.toFixed(2)} (${r.crossP99.toFixed(2)})`).join(', ')} ms`,
);
console.log(
  `  group of ${N} delivered ${group.toFixed(0)} ms (create ${median(groupCreate).toFixed(0)} ms)   target < 3000 ms: ${verdict(group < 3000)}`,
);
console.log(`     per round: ${groupTimes.map((t) => t.toFixed(0)).join(', ')} ms`);
console.log(
  `  created through one node, ${CLIENTS} clients: PostgreSQL ${pgRate.toFixed(0)}/s, one-node SQLite ${sqliteRate.toFixed(0)}/s, ratio ${(pgRate / sqliteRate).toFixed(2)}`,
);
console.log(
  `     per round: PostgreSQL ${pgRates.map((r) => r.toFixed(0)).join(', ')}; SQLite ${sqliteRates.map((r) => r.toFixed(0)).join(', ')}`,
);
console.log(`  agent sockets lost (and reopened) while measuring: ${lostMeasuring}`);
process.exit(0);
