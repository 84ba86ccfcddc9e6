/**
 * Three `keepwire serve` nodes sharing one PostgreSQL store (a private
 * cluster of this test's own, so restarting it disturbs nobody), six real
 * `keepwire agent` processes spread across them (long-poll and SSE), each
 * given its home node first and another to fail over to.
 *
 * 1. Commands created through every node reach the right agent exactly once.
 * 2. PostgreSQL restarted: once each node's LISTEN connection is back,
 *    commands created through one node reach agents waiting on the others.
 *    The agents' long-polls wait 300 s, longer than this test may run, so
 *    only a wake-up (NOTIFY, or the re-check after reconnecting) delivers.
 * 3. One node killed with kill -9 while its agents run commands: they fail
 *    over, and every command ends success, failure or expired.
 * Throughout, no agent runs any command twice (its journal says so).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Reply, unixRequest } from '../support/control-harness.ts';
import { CLI, makeDataDir, type ServeProcess, startServe } from '../support/keepwire-process.ts';
import { type PrivatePostgres, startPrivatePostgres } from '../support/private-postgres.ts';

const AGENTS = 6;
const RESTORED = 'LISTEN connection restored';
const ENV = {
  KEEPWIRE_CONTROL__SWEEP_INTERVAL_MS: '200',
  KEEPWIRE_CONTROL__CLAIM_LEASE_MS: '2000',
  KEEPWIRE_WATCH__ENABLED: 'false',
  KEEPWIRE_PIPELINE__ENABLED: 'false',
  KEEPWIRE_LOG__LEVEL: 'info',
};

interface Node {
  server: ServeProcess;
  socket: string;
  agentsUrl: string;
}

interface Agent {
  id: string;
  token: string;
  home: number;
  stateDir: string;
  child?: ChildProcess;
}

let postgres: PrivatePostgres;
let storeUrl: string;
const nodes: Node[] = [];
const agents: Agent[] = [];

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function startNode(): Promise<Node> {
  const dataDir = makeDataDir('kw-cluster-');
  const server = await startServe({ dataDir, args: ['--store', storeUrl], env: ENV });
  const socket = join(dataDir, 'keepwire.sock');
  const addr = join(dataDir, 'agents.addr');
  await waitFor('the agents listener', async () =>
    existsSync(addr) && existsSync(socket) ? true : undefined,
  );
  return { server, socket, agentsUrl: `http://${readFileSync(addr, 'utf8').trim()}` };
}

function startAgent(agent: Agent, servers: string[], mode: string): ChildProcess {
  const args = [CLI, 'agent', '--token', agent.token, '--state-dir', agent.stateDir];
  for (const server of servers) args.push('--server', server);
  args.push('--mode', mode, '--wait-s', '300');
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.resume();
  return child;
}

/** POST through one node, retried while the store is unreachable (503). */
async function create(node: Node, commands: unknown[]): Promise<string[]> {
  const reply = await waitFor('the store', async () => {
    const r: Reply = await unixRequest(node.socket, 'POST', '/v1/commands', { commands });
    return r.status === 503 ? undefined : r;
  });
  assert.equal(reply.status, 201, JSON.stringify(reply.body));
  return reply.body.commands.map((c: { id: string }) => c.id);
}

async function statuses(node: Node, ids: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const id of ids) {
    const reply = await unixRequest(node.socket, 'GET', `/v1/commands/${id}`);
    assert.equal(reply.status, 200);
    found.set(id, reply.body.status);
  }
  return found;
}

async function waitUntilEnded(node: Node, ids: string[], ms: number): Promise<Map<string, string>> {
  return waitFor(
    `${ids.length} commands to end`,
    async () => {
      const now = await statuses(node, ids);
      return [...now.values()].every((s) => s !== 'pending' && s !== 'sent') ? now : undefined;
    },
    ms,
  );
}

/** Command ids each agent's journal shows as started, with how many times. */
function journal(agent: Agent): Map<string, number> {
  const path = join(agent.stateDir, 'executed.jsonl');
  const started = new Map<string, number>();
  if (!existsSync(path)) return started;
  for (const line of readFileSync(path, 'utf8').trim().split('\n')) {
    if (line === '') continue;
    const entry = JSON.parse(line) as { id: string; state: string };
    if (entry.state === 'started') started.set(entry.id, (started.get(entry.id) ?? 0) + 1);
  }
  return started;
}

function pingEach(count: number, target: (i: number) => unknown, timeoutS = 60) {
  return Array.from({ length: count }, (_, i) => ({
    target: target(i),
    action: { name: 'ping', args: {} },
    timeoutS,
  }));
}

before(async () => {
  postgres = await startPrivatePostgres();
  storeUrl = await postgres.createDatabase('keepwire');
  for (let i = 0; i < 3; i += 1) nodes.push(await startNode());
  const dir = makeDataDir('kw-cluster-agents-');
  for (let i = 0; i < AGENTS; i += 1) {
    const reply = await unixRequest(nodes[i % 3]!.socket, 'POST', '/v1/agents', {
      name: `agent-${i}`,
      groups: ['fleet'],
    });
    assert.equal(reply.status, 201);
    agents.push({ ...reply.body, home: i % 3, stateDir: join(dir, `agent-${i}`) });
  }
  for (const [i, agent] of agents.entries()) {
    const servers = [nodes[agent.home]!.agentsUrl, nodes[(agent.home + 1) % 3]!.agentsUrl];
    agent.child = startAgent(agent, servers, i % 2 === 0 ? 'long-poll' : 'sse');
  }
});

after(async () => {
  for (const agent of agents) if (agent.child?.exitCode === null) agent.child.kill('SIGKILL');
  for (const node of nodes) await node.server.stop();
  await postgres?.destroy();
});

test('commands created through each node reach the right agent exactly once', async () => {
  const byTarget = new Map<string, string>();
  for (const [n, node] of nodes.entries()) {
    const direct = await create(
      node,
      pingEach(AGENTS * 2, (i) => ({ type: 'agent', id: agents[(i + n) % AGENTS]!.id })),
    );
    for (const [i, id] of direct.entries()) byTarget.set(id, agents[(i + n) % AGENTS]!.id);
    const fleet = await create(
      node,
      pingEach(1, () => ({ type: 'group', id: 'fleet' })),
    );
    assert.equal(fleet.length, AGENTS);
    for (const [i, id] of fleet.entries()) byTarget.set(id, agents[i]!.id);
  }
  const ended = await waitUntilEnded(nodes[0]!, [...byTarget.keys()], 60_000);
  for (const [id, status] of ended) assert.equal(status, 'success', id);
  for (const agent of agents) {
    const ran = journal(agent);
    const mine = [...byTarget].filter(([, target]) => target === agent.id).map(([id]) => id);
    assert.deepEqual([...ran.keys()].sort(), mine.sort(), `${agent.id} ran exactly its commands`);
    for (const [id, count] of ran) assert.equal(count, 1, `${id} ran ${count} times`);
  }
});

test('PostgreSQL restarted: nodes reconnect, wake-ups resume, nothing is lost', async () => {
  const restored = nodes.map((n) => n.server.stderr().split(RESTORED).length);
  await postgres.restart();
  await waitFor('every node to restore its LISTEN connection', async () =>
    nodes.every((n, i) => n.server.stderr().split(RESTORED).length > restored[i]!)
      ? true
      : undefined,
  ).catch((error: Error) => {
    const tails = nodes.map((n) => n.server.stderr().slice(-1500)).join('\n---\n');
    throw new Error(`${error.message}; the nodes said:\n${tails}`);
  });
  for (const node of nodes) assert.equal(node.server.child.exitCode, null, 'the node survived');
  const ids: string[] = [];
  for (const node of nodes) {
    ids.push(
      ...(await create(
        node,
        pingEach(AGENTS, (i) => ({ type: 'agent', id: agents[i]!.id })),
      )),
    );
  }
  const ended = await waitUntilEnded(nodes[1]!, ids, 60_000);
  for (const [id, status] of ended) assert.equal(status, 'success', id);
  for (const agent of agents) {
    for (const [id, count] of journal(agent)) assert.equal(count, 1, `${id} ran ${count} times`);
  }
});

test('a node killed with kill -9: its agents fail over, every command ends', async () => {
  const ids = [
    ...(await create(
      nodes[1]!,
      pingEach(AGENTS * 4, (i) => ({ type: 'agent', id: agents[i % AGENTS]!.id }), 10).map(
        // Long enough that the kill lands while some still run, even when
        // creating them takes seconds on a loaded host.
        (c, i) => ({ ...c, action: { name: 'ping', args: { delayMs: 1_500 + ((i * 53) % 400) } } }),
      ),
    )),
    ...(await create(
      nodes[2]!,
      pingEach(2, () => ({ type: 'group', id: 'fleet' }), 10),
    )),
  ];
  const open = [...(await statuses(nodes[1]!, ids)).values()].filter(
    (s) => s === 'pending' || s === 'sent',
  );
  nodes[0]!.server.child.kill('SIGKILL');
  assert.ok(open.length > 0, 'the kill landed while commands were still open');
  await nodes[0]!.server.stop();
  const ended = await waitUntilEnded(nodes[1]!, ids, 60_000);
  for (const [id, status] of ended)
    assert.ok(['success', 'failure', 'expired'].includes(status), `${id}: ${status}`);
  // Agents whose home was the dead node now take new commands through their other node.
  const orphans = agents.filter((a) => a.home === 0).map((a) => ({ type: 'agent', id: a.id }));
  const later = await create(
    nodes[2]!,
    orphans.map((target) => pingEach(1, () => target)[0]),
  );
  const done = await waitUntilEnded(nodes[2]!, later, 60_000);
  for (const [id, status] of done) assert.equal(status, 'success', id);
  for (const agent of agents) {
    for (const [id, count] of journal(agent)) assert.equal(count, 1, `${id} ran ${count} times`);
  }
});
