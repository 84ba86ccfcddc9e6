/**
 * The dispatcher through real listeners, in process (so the before-write
 * diagnostics channel can break a delivery at the exact moment): write
 * failures, disconnects, concurrent polls, caps, groups, SSE.
 */
import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ControlHarness, startControl } from '../support/control-harness.ts';

let h: ControlHarness;
before(async () => {
  // A ten-minute sweep: anything removed quickly here was removed by the 'close' event.
  h = await startControl({ 'control.sweepIntervalMs': 600_000 });
});
after(() => h.stop());

async function waitFor(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const pollWaiters = () => h.metric('keepwire_command_waiters{kind="poll"}');

/** A long-poll on its own connection, so the test can destroy it. */
function openPoll(token: string, waitS = 30) {
  const req = httpRequest(`${h.agentsUrl}/v1/commands?waitS=${waitS}`, {
    headers: { authorization: `Bearer ${token}` },
    agent: false,
  });
  const response = new Promise<{ status: number; body: any }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => {
        text += c;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }),
      );
    });
    req.on('error', reject);
  });
  req.end();
  return { req, response };
}

function ping(agentId: string, extra: Record<string, unknown> = {}) {
  return { target: { type: 'agent', id: agentId }, action: { name: 'ping' }, ...extra };
}

test('a write that fails at the moment of delivery returns the command to pending', async () => {
  const agent = await h.enrol('write-fail');
  const before = (await pollWaiters()) ?? 0;
  const poll = openPoll(agent.token);
  poll.response.catch(() => {});
  await waitFor(async () => (await pollWaiters()) === before + 1, 'the poll to wait');
  const breakSocket = (message: unknown) => (message as { socket: Socket }).socket.destroy();
  diagnosticsChannel.subscribe('keepwire:control:before-write', breakSocket);
  let id: string;
  try {
    const created = await h.admin('POST', '/v1/commands', ping(agent.id));
    assert.equal(created.status, 201);
    id = created.body.commands[0].id;
    await waitFor(
      async () => (await h.metric('keepwire_command_write_failures_total')) === 1,
      'the write failure',
    );
  } finally {
    diagnosticsChannel.unsubscribe('keepwire:control:before-write', breakSocket);
  }
  await assert.rejects(poll.response, 'the client saw its connection die');
  const stored = await h.admin('GET', `/v1/commands/${id}`);
  assert.equal(stored.body.status, 'pending');
  assert.equal(stored.body.sentAt, null);
  // The next poll gets it, and only then is it sent.
  const again = await h.agent(agent.token, 'GET', '/v1/commands?waitS=5');
  assert.equal(again.status, 200);
  assert.deepEqual(
    again.body.commands.map((c: { id: string }) => c.id),
    [id],
  );
  await waitFor(
    async () => (await h.admin('GET', `/v1/commands/${id}`)).body.status === 'sent',
    'the sent mark',
  );
});

test('an agent that disconnects mid-poll is removed at once, not by the sweep', async () => {
  const agent = await h.enrol('leaver');
  const before = (await pollWaiters()) ?? 0;
  const poll = openPoll(agent.token, 1200);
  poll.response.catch(() => {});
  await waitFor(async () => (await pollWaiters()) === before + 1, 'the poll to wait');
  const listed = await h.admin('GET', '/v1/agents');
  assert.equal(listed.body.agents.find((a: { id: string }) => a.id === agent.id).connected, true);
  poll.req.destroy();
  await waitFor(async () => (await pollWaiters()) === before, 'the waiter to go');
  const after = await h.admin('GET', '/v1/agents');
  assert.equal(after.body.agents.find((a: { id: string }) => a.id === agent.id).connected, false);
  // A command created now stays pending for the next poll: nobody took it.
  const created = await h.admin('POST', '/v1/commands', ping(agent.id));
  assert.equal(
    (await h.admin('GET', `/v1/commands/${created.body.commands[0].id}`)).body.status,
    'pending',
  );
});

test('two concurrent polls of one agent get different commands, each capped at 100', async () => {
  const agent = await h.enrol('busy');
  const before = (await pollWaiters()) ?? 0;
  const first = openPoll(agent.token, 10);
  const second = openPoll(agent.token, 10);
  await waitFor(async () => (await pollWaiters()) === before + 2, 'both polls to wait');
  const commands = Array.from({ length: 150 }, () => ping(agent.id));
  assert.equal((await h.admin('POST', '/v1/commands', { commands })).status, 201);
  const [a, b] = await Promise.all([first.response, second.response]);
  assert.equal(a.status, 200);
  assert.equal(b.status, 200);
  const sizes = [a.body.commands.length, b.body.commands.length].sort((x, y) => x - y);
  assert.deepEqual(sizes, [50, 100]);
  const ids = new Set([...a.body.commands, ...b.body.commands].map((c: { id: string }) => c.id));
  assert.equal(ids.size, 150, 'no command went to both polls');
});

test('a group of 1,050 agents gets one command each, created in one request', async () => {
  const members: { id: string; token: string }[] = [];
  for (let i = 0; i < 1050; i += 1) members.push(await h.enrol(`fleet-${i}`, ['fleet']));
  const created = await h.admin('POST', '/v1/commands', {
    id: 'fleet-ping',
    target: { type: 'group', id: 'fleet' },
    action: { name: 'ping' },
  });
  assert.equal(created.status, 201);
  assert.equal(created.body.commands.length, 1050);
  const targets = new Set(
    created.body.commands.map((c: { target: { id: string } }) => c.target.id),
  );
  assert.deepEqual(targets, new Set(members.map((m) => m.id)));
  for (const member of [members[0]!, members[524]!, members[1049]!]) {
    const poll = await h.agent(member.token, 'GET', '/v1/commands?waitS=0');
    assert.equal(poll.body.commands.length, 1);
    assert.equal(
      created.body.commands.find((c: { id: string }) => c.id === poll.body.commands[0].id).target
        .id,
      member.id,
    );
  }
  const listed = await h.admin('GET', '/v1/commands?target=group:fleet&limit=1000');
  assert.equal(listed.body.commands.length, 1000);
  assert.ok(listed.body.nextCursor);
  const rest = await h.admin(
    'GET',
    `/v1/commands?target=group:fleet&limit=1000&cursor=${listed.body.nextCursor}`,
  );
  assert.equal(rest.body.commands.length, 50);
});

test('SSE: each command is an event with its id; a new stream replaces the old one', async () => {
  const agent = await h.enrol('streamer');
  const headers = { authorization: `Bearer ${agent.token}` };
  const first = await fetch(`${h.agentsUrl}/v1/commands/stream`, { headers });
  assert.equal(first.headers.get('content-type'), 'text/event-stream');
  const reader = first.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  const created = await h.admin('POST', '/v1/commands', ping(agent.id, { id: 'sse-1' }));
  assert.equal(created.status, 201);
  while (!text.includes('\n\ndata') && !/event: command\ndata: .*\n\n/.test(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  assert.match(text, /id: sse-1\nevent: command\ndata: \{"id":"sse-1",/);
  await waitFor(
    async () => (await h.admin('GET', '/v1/commands/sse-1')).body.status === 'sent',
    'the sent mark',
  );
  const second = await fetch(`${h.agentsUrl}/v1/commands/stream`, { headers });
  for (;;) {
    const { done } = await reader.read();
    if (done) break;
  }
  assert.equal(await h.metric('keepwire_command_waiters{kind="sse"}'), 1);
  await second.body!.cancel();
  await waitFor(
    async () => (await h.metric('keepwire_command_waiters{kind="sse"}')) === 0,
    'the stream to go',
  );
});

test('group membership routes, and the byte budget of one response', async () => {
  const small = await startControl({ 'agents.maxResponseBytes': 1024 });
  try {
    const agent = await small.enrol('budget');
    assert.equal((await small.admin('PUT', `/v1/groups/ops/members/${agent.id}`)).status, 204);
    assert.deepEqual((await small.admin('GET', '/v1/groups/ops/members')).body.members, [agent.id]);
    assert.equal(
      (await small.admin('PUT', '/v1/groups/ops/members/nobody')).body.error.code,
      'CTRL_AGENT_NOT_FOUND',
    );
    const echo = 'x'.repeat(250);
    const commands = Array.from({ length: 5 }, () => ({
      target: { type: 'group', id: 'ops' },
      action: { name: 'ping', args: { echo } },
    }));
    assert.equal((await small.admin('POST', '/v1/commands', { commands })).status, 201);
    const sizes: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const poll = await small.agent(agent.token, 'GET', '/v1/commands?waitS=0');
      if (poll.status === 204) break;
      sizes.push(poll.body.commands.length);
    }
    assert.deepEqual(sizes, [2, 2, 1], 'about 450 bytes each: two fit in 1024');
    assert.equal((await small.admin('DELETE', `/v1/groups/ops/members/${agent.id}`)).status, 204);
    assert.equal((await small.admin('DELETE', `/v1/groups/ops/members/${agent.id}`)).status, 404);
    assert.equal(
      (await small.admin('POST', '/v1/commands', commands[0])).body.error.code,
      'CTRL_GROUP_EMPTY',
    );
  } finally {
    await small.stop();
  }
});
