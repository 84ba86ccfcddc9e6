/**
 * kill -9 of `keepwire serve` while it dispatches to real `keepwire agent`
 * processes: after a restart on the same data dir and port, every command
 * ends (success, failure or expired), none is lost, and no agent ran any
 * command twice (each agent's journal shows at most one "started" per id).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { unixRequest } from '../support/control-harness.ts';
import { CLI, makeDataDir, type ServeProcess, startServe } from '../support/keepwire-process.ts';

const ENV = {
  KEEPWIRE_CONTROL__SWEEP_INTERVAL_MS: '200',
  KEEPWIRE_WATCH__ENABLED: 'false',
  KEEPWIRE_PIPELINE__ENABLED: 'false',
};

async function waitForFile(path: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} never appeared`);
    await sleep(20);
  }
}

async function start(dataDir: string, agents: string): Promise<ServeProcess> {
  rmSync(join(dataDir, 'admin.addr'), { force: true });
  rmSync(join(dataDir, 'agents.addr'), { force: true });
  const server = await startServe({ dataDir, args: ['--agents', agents], env: ENV });
  await waitForFile(join(dataDir, 'agents.addr'));
  await waitForFile(join(dataDir, 'keepwire.sock'));
  return server;
}

function startAgent(url: string, token: string, stateDir: string, mode: string): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'agent',
      '--server',
      url,
      '--token',
      token,
      '--state-dir',
      stateDir,
      '--mode',
      mode,
      '--wait-s',
      '5',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr!.resume();
  return child;
}

test('kill -9 during dispatch loses no command and runs none twice', async () => {
  const dataDir = makeDataDir('kw-crash-');
  const socket = join(dataDir, 'keepwire.sock');
  let server = await start(dataDir, '127.0.0.1:0');
  const agentsAddr = readFileSync(join(dataDir, 'agents.addr'), 'utf8').trim();
  const agents: { id: string; token: string; stateDir: string; child?: ChildProcess }[] = [];
  for (let i = 0; i < 3; i += 1) {
    const reply = await unixRequest(socket, 'POST', '/v1/agents', {
      name: `crash-${i}`,
      groups: ['crash'],
    });
    agents.push({ ...reply.body, stateDir: join(dataDir, `agent-${i}`) });
  }
  for (const [i, agent] of agents.entries()) {
    agent.child = startAgent(
      `http://${agentsAddr}`,
      agent.token,
      agent.stateDir,
      i === 2 ? 'sse' : 'long-poll',
    );
  }
  try {
    const commands = Array.from({ length: 40 }, (_, i) => ({
      target: { type: 'group', id: 'crash' },
      action: { name: 'ping', args: { delayMs: (i * 37) % 200 } },
      timeoutS: 20,
    }));
    const created = await unixRequest(socket, 'POST', '/v1/commands', { commands });
    assert.equal(created.status, 201);
    const ids: string[] = created.body.commands.map((c: { id: string }) => c.id);
    assert.equal(ids.length, 120);

    await sleep(150);
    const openAtKill = await unixRequest(socket, 'GET', '/v1/commands?status=sent&limit=1000');
    const pendingAtKill = await unixRequest(
      socket,
      'GET',
      '/v1/commands?status=pending&limit=1000',
    );
    server.child.kill('SIGKILL');
    assert.ok(
      openAtKill.body.commands.length + pendingAtKill.body.commands.length > 0,
      'the kill landed while commands were still being dispatched or run',
    );
    await server.stop();
    await sleep(300);
    server = await start(dataDir, agentsAddr);

    const deadline = Date.now() + 45_000;
    for (;;) {
      const open = await Promise.all(
        ['pending', 'sent'].map((s) =>
          unixRequest(socket, 'GET', `/v1/commands?status=${s}&limit=1`),
        ),
      );
      if (open.every((r) => r.body.commands.length === 0)) break;
      if (Date.now() > deadline) throw new Error('commands were still open 45 s after the restart');
      await sleep(100);
    }
    const statuses = new Map<string, string>();
    let cursor = '';
    do {
      const page = await unixRequest(
        socket,
        'GET',
        `/v1/commands?target=group:crash&limit=50${cursor}`,
      );
      for (const c of page.body.commands) statuses.set(c.id, c.status);
      cursor = page.body.nextCursor ? `&cursor=${page.body.nextCursor}` : '';
    } while (cursor);
    assert.deepEqual(
      [...statuses.keys()].sort(),
      [...ids].sort(),
      'every created command is still there',
    );
    for (const status of statuses.values())
      assert.ok(['success', 'failure', 'expired'].includes(status), status);
    assert.ok([...statuses.values()].filter((s) => s === 'success').length > 0);

    const ran = new Set<string>();
    for (const agent of agents) {
      agent.child!.kill('SIGTERM');
      const code = await new Promise((resolve) => agent.child!.once('exit', resolve));
      assert.equal(code, 0, 'the agent stops cleanly on SIGTERM');
      // An agent may have run nothing (under load the others took every command).
      const lines = readFileSync(join(agent.stateDir, 'executed.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean);
      const started = new Map<string, number>();
      for (const line of lines.map((l) => JSON.parse(l))) {
        if (line.state === 'started') started.set(line.id, (started.get(line.id) ?? 0) + 1);
      }
      for (const [id, count] of started) {
        assert.equal(count, 1, `command ${id} ran ${count} times`);
        ran.add(id);
      }
    }
    for (const [id, status] of statuses) {
      if (status === 'success') assert.ok(ran.has(id), `${id} succeeded without running`);
    }
  } finally {
    for (const agent of agents) if (agent.child?.exitCode === null) agent.child.kill('SIGKILL');
    await server.stop();
  }
});
