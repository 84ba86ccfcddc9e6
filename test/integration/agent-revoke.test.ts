/**
 * Agent token revocation and rotation through real `keepwire serve`
 * processes, the real CLI and the real reference agent:
 *
 * - revoke: an open SSE stream and an open long-poll of revoked agents end
 *   at once (the stream ends, the poll is answered 401), new requests are
 *   refused 401 CTRL_AGENT_TOKEN_REVOKED, new commands 409, and a running
 *   `keepwire agent` stops with a clear line instead of retrying;
 * - rotate: the old token's stream ends and the token is refused, the new
 *   token (printed once) works, and a revoked agent cannot be rotated;
 * - expiry: a token enrolled with a TTL ends its open stream and long-poll
 *   when it expires and is refused from then on; rotate gives a new one;
 * - two nodes on one PostgreSQL store: a revoke through one node ends the
 *   stream held by the other.
 *
 * Every wait is for an event (a stream's end, a process's exit, a state read
 * through the API), never a fixed sleep.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import {
  CLI,
  makeDataDir,
  runCli,
  type ServeProcess,
  startServe,
} from '../support/keepwire-process.ts';
import { ADMIN_URL, createTestDatabase, onAdmin, type TestDatabase } from '../support/postgres.ts';

const ENV = { KEEPWIRE_WATCH__ENABLED: 'false', KEEPWIRE_PIPELINE__ENABLED: 'false' };

interface Node {
  server: ServeProcess;
  agentsUrl: string;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

async function startNode(args: string[] = []): Promise<Node> {
  const dataDir = makeDataDir('kw-revoke-');
  const server = await startServe({ dataDir, args, env: ENV });
  const addr = join(dataDir, 'agents.addr');
  await waitFor('the agents listener', async () => (existsSync(addr) ? true : undefined));
  return { server, agentsUrl: `http://${readFileSync(addr, 'utf8').trim()}` };
}

/** `keepwire agents ...` against a node's admin listener. */
async function agentsCli(node: Node, args: string[]) {
  return runCli([
    'agents',
    ...args,
    '--server',
    node.server.adminUrl,
    '--token',
    node.server.adminToken,
  ]);
}

async function enrol(node: Node, name: string): Promise<{ id: string; token: string }> {
  const run = await agentsCli(node, ['enroll', '--name', name, '--json']);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout);
}

async function isConnected(node: Node, id: string): Promise<true | undefined> {
  const run = await agentsCli(node, ['list', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const agents = JSON.parse(run.stdout).agents as { id: string; connected: boolean }[];
  return agents.find((a) => a.id === id)?.connected ? true : undefined;
}

interface Open {
  /** Resolves when the response ends (or its connection closes): status and body. */
  ended: Promise<{ status: number; body: string }>;
  response: Promise<IncomingMessage>;
}

/** An agent request on its own connection, read to its end. */
function open(node: Node, token: string, path: string): Open {
  const req = httpRequest(`${node.agentsUrl}${path}`, {
    headers: { authorization: `Bearer ${token}` },
    agent: false,
  });
  const response = once(req, 'response').then(([res]) => res as IncomingMessage);
  const ended = response.then(async (res) => {
    let body = '';
    res.setEncoding('utf8').on('data', (chunk: string) => {
      body += chunk;
    });
    await Promise.race([once(res, 'end'), once(res, 'close')]);
    return { status: res.statusCode!, body };
  });
  req.end();
  return { ended, response };
}

async function agentRequest(node: Node, token: string, path: string) {
  const response = await fetch(`${node.agentsUrl}${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  return onAdmin(ADMIN_URL, work);
}

let node: Node;
before(async () => {
  node = await startNode();
});
after(() => node.server.stop());

test('revoke ends an open SSE stream and an open long-poll at once; the tokens are refused from then on', async () => {
  const streamed = await enrol(node, 'rv-sse');
  const polled = await enrol(node, 'rv-poll');
  const stream = open(node, streamed.token, '/v1/commands/stream');
  assert.equal((await stream.response).statusCode, 200);
  const poll = open(node, polled.token, '/v1/commands?waitS=300');
  await waitFor('the stream to be registered', () => isConnected(node, streamed.id));
  await waitFor('the poll to be registered', () => isConnected(node, polled.id));

  const revoked = await agentsCli(node, ['revoke', streamed.id, '--json']);
  assert.equal(revoked.code, 0, revoked.stderr);
  const record = JSON.parse(revoked.stdout);
  assert.equal(record.id, streamed.id);
  assert.match(record.revokedAt, /^\d{4}-\d\d-\d\dT/);
  const streamEnd = await stream.ended;
  assert.match(streamEnd.body, /: closed \(revoked\)/);

  const text = await agentsCli(node, ['revoke', polled.id]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`revoked rv-poll \\(${polled.id}\\) at `));
  const pollEnd = await poll.ended;
  assert.equal(pollEnd.status, 401);
  assert.equal(JSON.parse(pollEnd.body).error.code, 'CTRL_AGENT_TOKEN_REVOKED');

  for (const token of [streamed.token, polled.token]) {
    for (const path of ['/v1/commands?waitS=0', '/v1/commands/stream']) {
      const refused = await agentRequest(node, token, path);
      assert.equal(refused.status, 401, path);
      assert.equal(refused.body.error.code, 'CTRL_AGENT_TOKEN_REVOKED');
    }
  }
  const table = (await agentsCli(node, ['list'])).stdout;
  assert.match(table, new RegExp(`rv-sse +${streamed.id} +revoked `));
  const list = JSON.parse((await agentsCli(node, ['list', '--json'])).stdout).agents;
  assert.equal(list.find((a: { id: string }) => a.id === streamed.id).revokedAt, record.revokedAt);

  const command = await fetch(`${node.server.adminUrl}/v1/commands`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${node.server.adminToken}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ target: { type: 'agent', id: streamed.id }, action: { name: 'ping' } }),
  });
  assert.equal(command.status, 409);
  assert.equal(
    ((await command.json()) as { error: { code: string } }).error.code,
    'CTRL_AGENT_REVOKED',
  );

  const rotateRevoked = await agentsCli(node, ['rotate', streamed.id]);
  assert.equal(rotateRevoked.code, 1);
  assert.match(rotateRevoked.stderr, /CTRL_AGENT_REVOKED/);
  const unknown = await agentsCli(node, ['revoke', 'no-such-agent']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /CTRL_AGENT_NOT_FOUND/);
});

for (const mode of ['long-poll', 'sse']) {
  test(`a running keepwire agent (${mode}) whose token is revoked stops with a clear message`, async () => {
    const agent = await enrol(node, `rv-process-${mode}`);
    const stateDir = makeDataDir('kw-revoke-agent-');
    const args = ['agent', '--server', node.agentsUrl, '--token', agent.token, '--mode', mode];
    const child = spawn(process.execPath, [CLI, ...args, '--state-dir', stateDir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const exited = once(child, 'exit');
    try {
      await waitFor('the agent to connect', () => isConnected(node, agent.id));
      const revoked = await agentsCli(node, ['revoke', agent.id]);
      assert.equal(revoked.code, 0, revoked.stderr);
      const [code] = await exited;
      assert.equal(code, 1, stderr);
      assert.match(stderr, /this agent token was revoked/);
      assert.equal(stderr.match(/revoked/g)!.length, 1, `one line, no retry loop:\n${stderr}`);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
}

test('rotate: the old token is refused at once and its stream ends; the new token, shown once, works', async () => {
  const agent = await enrol(node, 'rt-sse');
  const stream = open(node, agent.token, '/v1/commands/stream');
  assert.equal((await stream.response).statusCode, 200);
  await waitFor('the stream to be registered', () => isConnected(node, agent.id));

  const rotated = await agentsCli(node, ['rotate', agent.id]);
  assert.equal(rotated.code, 0, rotated.stderr);
  const token = /new token \(shown once\): (\S+)/.exec(rotated.stdout)?.[1];
  assert.ok(token?.startsWith('kw_'), rotated.stdout);
  assert.notEqual(token, agent.token);
  assert.match((await stream.ended).body, /: closed \(rotated\)/);

  const old = await agentRequest(node, agent.token, '/v1/commands?waitS=0');
  assert.equal(old.status, 401);
  assert.equal(old.body.error.code, 'UNAUTHORIZED');
  assert.equal((await agentRequest(node, token!, '/v1/commands?waitS=0')).status, 204);

  const again = await agentsCli(node, ['rotate', agent.id, '--json']);
  assert.equal(again.code, 0, again.stderr);
  const record = JSON.parse(again.stdout);
  assert.equal(record.id, agent.id);
  assert.equal(record.revokedAt, null);
  assert.equal((await agentRequest(node, token!, '/v1/commands?waitS=0')).status, 401);
  assert.equal((await agentRequest(node, record.token, '/v1/commands?waitS=0')).status, 204);
});

test('a token with a TTL ends its open stream and long-poll when it expires, then is refused; rotate renews it', async () => {
  const enrolWithTtl = async (name: string) => {
    const reply = await fetch(`${node.server.adminUrl}/v1/agents`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${node.server.adminToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ name, ttlS: 3 }),
    });
    assert.equal(reply.status, 201);
    return (await reply.json()) as { id: string; token: string; tokenExpiresAt: string };
  };
  const streamed = await enrolWithTtl('ttl-sse');
  const polled = await enrolWithTtl('ttl-poll');
  assert.ok(Date.parse(streamed.tokenExpiresAt) > Date.now());
  const stream = open(node, streamed.token, '/v1/commands/stream');
  const poll = open(node, polled.token, '/v1/commands?waitS=300');
  assert.match((await stream.ended).body, /: closed \(expired\)/);
  const pollEnd = await poll.ended;
  assert.equal(pollEnd.status, 401);
  assert.equal(JSON.parse(pollEnd.body).error.code, 'CTRL_AGENT_TOKEN_EXPIRED');
  const refused = await agentRequest(node, streamed.token, '/v1/commands?waitS=0');
  assert.equal(refused.status, 401);
  assert.equal(refused.body.error.code, 'CTRL_AGENT_TOKEN_EXPIRED');

  const renewed = await agentsCli(node, ['rotate', streamed.id, '--ttl-s', '3600']);
  assert.equal(renewed.code, 0, renewed.stderr);
  assert.match(renewed.stdout, /token expires at \d{4}-/);
  const token = /new token \(shown once\): (\S+)/.exec(renewed.stdout)![1]!;
  assert.equal((await agentRequest(node, token, '/v1/commands?waitS=0')).status, 204);
  const forever = JSON.parse((await agentsCli(node, ['rotate', polled.id, '--json'])).stdout);
  assert.equal(forever.tokenExpiresAt, null);
  assert.equal((await agentRequest(node, forever.token, '/v1/commands?waitS=0')).status, 204);
  const bad = await agentsCli(node, ['rotate', polled.id, '--ttl-s', '1h']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--ttl-s must be a whole number of seconds/);
});

test('two nodes on PostgreSQL: a revoke through one ends the stream held by the other', async () => {
  const database: TestDatabase = await createTestDatabase();
  const nodes: Node[] = [];
  try {
    nodes.push(await startNode(['--store', database.url]));
    nodes.push(await startNode(['--store', database.url]));
    const [first, second] = nodes as [Node, Node];
    const agent = await enrol(first, 'pg-sse');
    const stream = open(second, agent.token, '/v1/commands/stream');
    assert.equal((await stream.response).statusCode, 200);
    await waitFor('the stream on the second node', () => isConnected(second, agent.id));
    const revoked = await agentsCli(first, ['revoke', agent.id]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match((await stream.ended).body, /: closed \(revoked\)/);
    const refused = await agentRequest(second, agent.token, '/v1/commands?waitS=0');
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error.code, 'CTRL_AGENT_TOKEN_REVOKED');

    // A node that was not listening when the revoke was sent re-checks its
    // open waits once it listens again. New connections to the database are
    // refused meanwhile, so its LISTEN connection cannot come back early.
    const missed = await enrol(first, 'pg-missed');
    const late = open(second, missed.token, '/v1/commands/stream');
    assert.equal((await late.response).statusCode, 200);
    await waitFor('the stream on the second node', () => isConnected(second, missed.id));
    let isLateEnded = false;
    late.ended.then(() => {
      isLateEnded = true;
    });
    await withAdmin(async (client) => {
      await client.query(`ALTER DATABASE ${database.name} ALLOW_CONNECTIONS false`);
      const listeners = `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN%'`;
      await client.query(`SELECT pg_terminate_backend(pid) FROM (${listeners}) l`, [database.name]);
      await waitFor('no LISTEN connection left', async () =>
        (await client.query(listeners, [database.name])).rowCount === 0 ? true : undefined,
      );
    });
    const revokedMissed = await agentsCli(first, ['revoke', missed.id]);
    assert.equal(revokedMissed.code, 0, revokedMissed.stderr);
    assert.equal(isLateEnded, false, 'the second node did not hear it');
    await withAdmin((client) =>
      client.query(`ALTER DATABASE ${database.name} ALLOW_CONNECTIONS true`),
    );
    const bound = sleep(30_000, 'timed out', { ref: false });
    const lateEnd = await Promise.race([late.ended, bound]);
    assert.notEqual(lateEnd, 'timed out', 'the stream ended once the node listened again');
    assert.match((lateEnd as { body: string }).body, /: closed \(revoked\)/);
  } finally {
    await withAdmin((client) =>
      client.query(`ALTER DATABASE ${database.name} ALLOW_CONNECTIONS true`),
    );
    for (const n of nodes) await n.server.stop();
    await database.drop();
  }
});
