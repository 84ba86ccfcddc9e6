/**
 * The command API through a real `keepwire serve` process: lifecycle,
 * idempotency, expiry, cancel, isolation between agents, tokens, the Unix
 * socket and its mode, components, malformed bodies, and the CLI (a second
 * serve on the same socket: unix-socket-takeover.test.ts).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Reply, unixRequest } from '../support/control-harness.ts';
import { runCli, type ServeProcess, startServe } from '../support/keepwire-process.ts';

let server: ServeProcess;
let agentsUrl: string;
let socketPath: string;

before(async () => {
  server = await startServe({
    args: ['--agents', '127.0.0.1:0'],
    env: {
      KEEPWIRE_CONTROL__SWEEP_INTERVAL_MS: '200',
      KEEPWIRE_WATCH__ENABLED: 'false',
      KEEPWIRE_PIPELINE__ENABLED: 'false',
    },
  });
  socketPath = join(server.dataDir, 'keepwire.sock');
  const deadline = Date.now() + 10_000;
  while (!existsSync(socketPath) || !existsSync(join(server.dataDir, 'agents.addr'))) {
    if (Date.now() > deadline) throw new Error(`no agents listener:\n${server.stderr()}`);
    await sleep(20);
  }
  agentsUrl = `http://${readFileSync(join(server.dataDir, 'agents.addr'), 'utf8').trim()}`;
});
after(async () => {
  assert.equal(await server.stop('SIGTERM'), 0);
  assert.equal(existsSync(socketPath), false, 'the socket file is removed at shutdown');
});

async function call(url: string, method: string, body?: unknown, token?: string): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, {
    method,
    headers,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}
const admin = (method: string, path: string, body?: unknown) =>
  call(server.adminUrl + path, method, body, server.adminToken);
const asAgent = (token: string | undefined, method: string, path: string, body?: unknown) =>
  call(agentsUrl + path, method, body, token);

async function enrol(name: string, groups: string[] = []) {
  const reply = await admin('POST', '/v1/agents', { name, groups });
  assert.equal(reply.status, 201, JSON.stringify(reply.body));
  return reply.body as { id: string; token: string };
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

test('lifecycle: pending -> sent -> success, delivered to a waiting long-poll', async () => {
  const agent = await enrol('life');
  const poll = asAgent(agent.token, 'GET', '/v1/commands?waitS=20');
  await sleep(100);
  const created = await admin('POST', '/v1/commands', {
    target: { type: 'agent', id: agent.id },
    action: { name: 'ping', args: { echo: 'x' } },
    timeoutS: 60,
  });
  assert.equal(created.status, 201);
  const [command] = created.body.commands;
  assert.equal(command.status, 'pending');
  assert.match(command.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7/);
  const received = await poll;
  assert.equal(received.status, 200);
  assert.deepEqual(received.body.commands[0].action, {
    name: 'ping',
    args: { echo: 'x' },
    version: '1',
  });
  await until(
    async () => (await admin('GET', `/v1/commands/${command.id}`)).body.status === 'sent',
    'sent',
  );
  const result = { status: 'success', result: { code: 0, message: 'pong', data: { n: 1 } } };
  const answered = await asAgent(agent.token, 'POST', `/v1/commands/${command.id}/result`, result);
  assert.equal(answered.status, 200);
  assert.equal(answered.body.status, 'success');
  const repeat = await asAgent(agent.token, 'POST', `/v1/commands/${command.id}/result`, result);
  assert.equal(repeat.status, 200, 'a repeated result is acknowledged again');
  const stored = (await admin('GET', `/v1/commands/${command.id}`)).body;
  assert.deepEqual(stored.result, result.result);
  assert.ok(stored.sentAt && stored.finishedAt);
  const empty = await asAgent(agent.token, 'GET', '/v1/commands?waitS=0');
  assert.equal(empty.status, 204);
  const metrics = await (await fetch(`${server.adminUrl}/metrics`)).text();
  assert.match(metrics, /^keepwire_commands\{status="success"\} [1-9]/m);
  assert.match(metrics, /^keepwire_command_delivery_seconds_count [1-9]/m);
});

test('idempotent create: same id and body -> same command; different body -> 409', async () => {
  const agent = await enrol('idem');
  const body = { id: 'idem-1', target: { type: 'agent', id: agent.id }, action: { name: 'ping' } };
  const first = await admin('POST', '/v1/commands', body);
  assert.equal(first.status, 201);
  const again = await admin('POST', '/v1/commands', {
    ...body,
    action: { args: {}, name: 'ping' },
  });
  assert.equal(again.status, 200);
  assert.deepEqual(again.body, first.body);
  const changed = await admin('POST', '/v1/commands', { ...body, timeoutS: 5 });
  assert.equal(changed.status, 409);
  assert.equal(changed.body.error.code, 'CTRL_COMMAND_CONFLICT');
});

test('expiry: a command nobody takes, and one sent but never answered, expire', async () => {
  const agent = await enrol('late');
  const pending = await admin('POST', '/v1/commands', {
    target: { type: 'agent', id: agent.id },
    action: { name: 'ping' },
    timeoutS: 1,
  });
  const id = pending.body.commands[0].id;
  const sent = await admin('POST', '/v1/commands', {
    target: { type: 'component', id: 'slow' },
    action: { name: 'reload' },
    timeoutS: 1,
  });
  const got = await unixRequest(socketPath, 'GET', '/v1/components/slow/commands?waitS=0');
  assert.equal(got.body.commands[0].id, sent.body.commands[0].id);
  await until(
    async () => (await admin('GET', `/v1/commands/${id}`)).body.status === 'expired',
    'expiry',
  );
  // Created a few ms later, so its deadline may fall one sweep after the first's.
  await until(
    async () =>
      (await admin('GET', `/v1/commands/${sent.body.commands[0].id}`)).body.status === 'expired',
    'expiry of the sent command',
  );
  const other = (await admin('GET', `/v1/commands/${sent.body.commands[0].id}`)).body;
  assert.equal(other.status, 'expired');
  assert.ok(other.sentAt, 'it had been sent');
  const late = await asAgent(agent.token, 'POST', `/v1/commands/${id}/result`, {
    status: 'success',
  });
  assert.equal(late.status, 409);
  assert.equal(late.body.error.code, 'CTRL_COMMAND_FINISHED');
  assert.equal((await asAgent(agent.token, 'GET', '/v1/commands?waitS=0')).status, 204);
});

test('cancel: a cancelled command is not delivered; cancelling twice is 409', async () => {
  const agent = await enrol('cancel');
  const created = await admin('POST', '/v1/commands', {
    target: { type: 'agent', id: agent.id },
    action: { name: 'ping' },
  });
  const id = created.body.commands[0].id;
  const cancelled = await admin('POST', `/v1/commands/${id}/cancel`);
  assert.equal(cancelled.status, 200);
  assert.equal(cancelled.body.status, 'cancelled');
  assert.equal(
    (await admin('POST', `/v1/commands/${id}/cancel`)).body.error.code,
    'CTRL_COMMAND_FINISHED',
  );
  assert.equal((await asAgent(agent.token, 'GET', '/v1/commands?waitS=0')).status, 204);
});

test('agent A cannot read, answer or cancel agent B commands', async () => {
  const a = await enrol('iso-a');
  const b = await enrol('iso-b');
  const created = await admin('POST', '/v1/commands', {
    target: { type: 'agent', id: b.id },
    action: { name: 'ping' },
  });
  const id = created.body.commands[0].id;
  assert.equal((await asAgent(a.token, 'GET', '/v1/commands?waitS=0')).status, 204);
  const answer = await asAgent(a.token, 'POST', `/v1/commands/${id}/result`, { status: 'success' });
  assert.equal(answer.status, 404);
  assert.equal(answer.body.error.code, 'CTRL_COMMAND_NOT_FOUND');
  const missing = await asAgent(a.token, 'POST', '/v1/commands/no-such-id/result', {
    status: 'success',
  });
  assert.deepEqual(Object.keys(answer.body.error), Object.keys(missing.body.error));
  assert.equal((await asAgent(a.token, 'POST', `/v1/commands/${id}/cancel`)).status, 404);
  assert.equal((await asAgent(a.token, 'GET', `/v1/commands/${id}`)).status, 404);
  assert.equal(
    (await call(`${server.adminUrl}/v1/commands/${id}/cancel`, 'POST', undefined, a.token)).status,
    401,
  );
  assert.equal((await admin('GET', `/v1/commands/${id}`)).body.status, 'pending');
  const mine = await asAgent(b.token, 'GET', '/v1/commands?waitS=0');
  assert.equal(mine.body.commands[0].id, id);
});

test('tokens: missing or wrong -> 401, and repeated failures are answered slower', async () => {
  assert.equal((await asAgent(undefined, 'GET', '/v1/commands?waitS=0')).status, 401);
  const times: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    const started = performance.now();
    const reply = await asAgent('kw_wrong', 'GET', '/v1/commands?waitS=0');
    times.push(performance.now() - started);
    assert.equal(reply.status, 401);
    assert.equal(reply.body.error.code, 'UNAUTHORIZED');
  }
  // The 6th failure in a row from this address waits at least 50 ms * 2^4.
  assert.ok(times[4]! >= 790, `the 6th failure was answered after ${times[4]} ms`);
});

test('unix socket: mode 0660, management without a token, component subscriptions', async () => {
  assert.equal(statSync(socketPath).mode & 0o777, 0o660);
  const poll = unixRequest(socketPath, 'GET', '/v1/components/firewall/commands?waitS=20');
  await sleep(100);
  const created = await unixRequest(socketPath, 'POST', '/v1/commands', {
    target: { type: 'component', id: 'firewall' },
    action: { name: 'reload', args: { anything: [1] } },
  });
  assert.equal(created.status, 201);
  const id = created.body.commands[0].id;
  const got = await poll;
  assert.equal(got.body.commands[0].id, id);
  assert.deepEqual(got.body.commands[0].action.args, { anything: [1] });
  const wrong = await unixRequest(
    socketPath,
    'POST',
    `/v1/components/other/commands/${id}/result`,
    { status: 'success' },
  );
  assert.equal(wrong.status, 404);
  const done = await unixRequest(
    socketPath,
    'POST',
    `/v1/components/firewall/commands/${id}/result`,
    {
      status: 'failure',
      result: { code: 'E', message: 'no rules' },
    },
  );
  assert.equal(done.body.status, 'failure');
  assert.equal((await unixRequest(socketPath, 'GET', '/v1/agents')).status, 200);
});

test('malformed bodies and queries get 400 naming the field', async () => {
  const agent = await enrol('bad');
  const cases: [unknown, RegExp][] = [
    [{ target: { type: 'agent' }, action: { name: 'ping' } }, /target\.id/],
    [{ target: { type: 'host', id: 'x' }, action: { name: 'ping' } }, /target\.type/],
    [
      { target: { type: 'agent', id: agent.id }, action: { name: 'ping' }, timeoutS: 0 },
      /timeoutS/,
    ],
    [{ target: { type: 'agent', id: agent.id }, action: { name: 'ping' }, extra: 1 }, /"extra"/],
    [
      { target: { type: 'agent', id: agent.id }, action: { name: 'ping', args: { delayMs: 'x' } } },
      /action\.args\.delayMs/,
    ],
    [
      {
        target: { type: 'agent', id: agent.id },
        action: { name: 'sockets.diagnose', args: { samples: 1 } },
      },
      /action\.args\.samples/,
    ],
  ];
  for (const [body, field] of cases) {
    const reply = await admin('POST', '/v1/commands', body);
    assert.equal(reply.status, 400, JSON.stringify(body));
    assert.match(reply.body.error.message, field);
  }
  assert.equal((await admin('POST', '/v1/commands', '{"target":')).status, 400);
  const result = await asAgent(agent.token, 'POST', '/v1/commands/x/result', { status: 'done' });
  assert.match(result.body.error.message, /^status: /);
  const wait = await asAgent(agent.token, 'GET', '/v1/commands?waitS=5000');
  assert.equal(wait.status, 400);
  assert.match(wait.body.error.message, /waitS/);
  assert.match((await admin('GET', '/v1/commands?status=done')).body.error.message, /status/);
  assert.match((await admin('POST', '/v1/agents', { groups: [] })).body.error.message, /^name: /);
  assert.equal(
    (
      await admin('POST', '/v1/commands', {
        target: { type: 'group', id: 'nobody' },
        action: { name: 'ping' },
      })
    ).body.error.code,
    'CTRL_GROUP_EMPTY',
  );
});

test('cli: enroll, create, list, get, cancel and watch over the Unix socket and --server', async () => {
  const viaSocket = ['--data-dir', server.dataDir];
  const enrolled = await runCli([
    'agents',
    'enroll',
    '--name',
    'cli-1',
    '--group',
    'cli',
    '--json',
    ...viaSocket,
  ]);
  assert.equal(enrolled.code, 0, enrolled.stderr);
  const { id, token } = JSON.parse(enrolled.stdout);
  assert.match(token, /^kw_/);
  const created = await runCli([
    'commands',
    'create',
    '--target',
    'group:cli',
    '--action',
    'ping',
    '--args',
    '{"echo":"e"}',
    '--timeout-s',
    '30',
    '--id',
    'cli-c1',
    '--json',
    ...viaSocket,
  ]);
  assert.equal(created.code, 0, created.stderr);
  const [command] = JSON.parse(created.stdout).commands;
  assert.equal(command.status, 'pending');
  assert.equal(command.target.id, id);
  const viaServer = ['--server', server.adminUrl, '--token', server.adminToken];
  const listed = await runCli([
    'commands',
    'list',
    '--target',
    'group:cli',
    '--json',
    ...viaServer,
  ]);
  assert.equal(JSON.parse(listed.stdout).commands[0].id, command.id);
  const watched = runCli(['commands', 'watch', command.id, '--json', ...viaSocket]);
  await sleep(300);
  await asAgent(token, 'GET', '/v1/commands?waitS=0');
  await asAgent(token, 'POST', `/v1/commands/${command.id}/result`, { status: 'success' });
  const watch = await watched;
  assert.equal(watch.code, 0, watch.stderr);
  assert.deepEqual(
    watch.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).status)
      .slice(-1),
    ['success'],
  );
  const cancel = await runCli(['commands', 'cancel', command.id, ...viaSocket]);
  assert.equal(cancel.code, 1);
  assert.match(cancel.stderr, /already ended as success/);
  const list = await runCli(['agents', 'list', '--json', ...viaSocket]);
  assert.ok(JSON.parse(list.stdout).agents.some((a: { name: string }) => a.name === 'cli-1'));
  const badArgs = await runCli([
    'commands',
    'create',
    '--target',
    'agent:x',
    '--action',
    'ping',
    '--args',
    '{',
    ...viaSocket,
  ]);
  assert.equal(badArgs.code, 2);
  assert.match(badArgs.stderr, /--args must be a JSON object/);
  const away = await runCli(['agents', 'list', '--socket', join(server.dataDir, 'nope.sock')]);
  assert.equal(away.code, 1);
  assert.match(away.stderr, /is "keepwire serve" running/);
  for (const name of ['agents', 'commands', 'agent']) {
    const help = await runCli([name, '--help']);
    assert.match(help.stdout, /Examples:/);
  }
});
