/**
 * Bad input answered with our error shape and the right status, on a real
 * `keepwire serve`: 100,000 levels of JSON nesting (400, never a 500 stack
 * overflow), an unsupported Content-Encoding (415), an over-long id (our
 * shape, not fastify's), invalid UTF-8 in an event (400, nothing stored).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type ServeProcess, startServe } from '../support/keepwire-process.ts';
import { listenerAddress } from '../support/raw-socket.ts';

const DEEP = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
let server: ServeProcess;
let events: string;
let agents: string;
let admin: Record<string, string>;

before(async () => {
  server = await startServe();
  const address = (name: string) => {
    const { host, port } = listenerAddress(server.dataDir, name);
    return `http://${host}:${port}`;
  };
  events = address('events');
  agents = address('agents');
  admin = { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' };
});

after(async () => {
  assert.equal(await server.stop(), 0);
  assert.doesNotMatch(server.stderr(), /"level":50/, server.stderr());
});

async function errorOf(response: Response): Promise<{ code: string; message: string }> {
  const body = (await response.json()) as { error: { code: string; message: string } };
  assert.equal(typeof body.error.code, 'string');
  assert.equal(typeof body.error.message, 'string');
  return body.error;
}

test('a command nested 100,000 deep is answered 400 with our shape', async () => {
  const response = await fetch(`${server.adminUrl}/v1/commands`, {
    method: 'POST',
    headers: admin,
    body: `{"target":{"type":"group","id":"x"},"action":{"name":"a","args":{"d":${DEEP}}}}`,
  });
  assert.equal(response.status, 400);
  assert.match((await errorOf(response)).message, /nested deeper than/);
});

test("an agent's result nested 100,000 deep is answered 400 with our shape", async () => {
  const enrolled = await fetch(`${server.adminUrl}/v1/agents`, {
    method: 'POST',
    headers: admin,
    body: '{"name":"deep-agent"}',
  });
  const agent = (await enrolled.json()) as { id: string; token: string };
  const token = agent.token;
  const created = await fetch(`${server.adminUrl}/v1/commands`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({ target: { type: 'agent', id: agent.id }, action: { name: 'a' } }),
  });
  const { commands } = (await created.json()) as { commands: { id: string }[] };
  const id = commands[0]!.id;
  const response = await fetch(`${agents}/v1/commands/${id}/result`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: `{"status":"success","result":{"data":${DEEP}}}`,
  });
  assert.equal(response.status, 400);
  assert.match((await errorOf(response)).message, /nested deeper than/);
});

test('an unsupported Content-Encoding is answered 415, on intake and on the API', async () => {
  const intake = await fetch(`${events}/v1/events`, {
    method: 'POST',
    headers: { 'content-encoding': 'br' },
    body: '{"a":1}\n',
  });
  assert.equal(intake.status, 415);
  assert.match((await errorOf(intake)).message, /Content-Encoding "br"/);
  const api = await fetch(`${server.adminUrl}/v1/commands`, {
    method: 'POST',
    headers: { ...admin, 'content-encoding': 'br' },
    body: '{}',
  });
  assert.equal(api.status, 415);
  await errorOf(api);
});

test('an over-long id is answered with our error shape', async () => {
  const response = await fetch(`${server.adminUrl}/v1/commands/${'x'.repeat(5_000)}`, {
    headers: admin,
  });
  assert.ok(response.status >= 400 && response.status < 500, String(response.status));
  const error = await errorOf(response);
  assert.doesNotMatch(error.code, /^FST_/);
});

test('invalid UTF-8 in an event is answered 400 and not stored', async () => {
  const line = Buffer.concat([
    Buffer.from('{"a":"'),
    Buffer.from([0xff, 0xfe]),
    Buffer.from('"}\n'),
  ]);
  const response = await fetch(`${events}/v1/events`, { method: 'POST', body: line });
  assert.equal(response.status, 400);
  await errorOf(response);
});
