import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeDataDir, runCli, startServe } from '../support/keepwire-process.ts';

test('serve: health, metrics, token, address file and ordered shutdown', async () => {
  const server = await startServe();
  try {
    const health = await fetch(`${server.adminUrl}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });

    const metrics = await fetch(`${server.adminUrl}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /^keepwire_process_cpu_user_seconds_total /m);

    const anonymous = await fetch(`${server.adminUrl}/v1/anything`);
    assert.equal(anonymous.status, 401);
    assert.equal(
      ((await anonymous.json()) as { error: { code: string } }).error.code,
      'UNAUTHORIZED',
    );
    const wrong = await fetch(`${server.adminUrl}/v1/anything`, {
      headers: { authorization: 'Bearer kw_wrong' },
    });
    assert.equal(wrong.status, 401);
    const authorised = await fetch(`${server.adminUrl}/v1/anything`, {
      headers: { authorization: `Bearer ${server.adminToken}` },
    });
    assert.equal(authorised.status, 404);

    assert.equal(statSync(join(server.dataDir, 'admin.token')).mode & 0o777, 0o600);
    assert.ok(
      !server.stderr().includes(server.adminToken),
      'standard error is not a terminal: the token is not printed',
    );
  } finally {
    assert.equal(await server.stop('SIGTERM'), 0);
  }
});

test('serve: a second start keeps the token and does not print it', async () => {
  const dataDir = makeDataDir();
  const first = await startServe({ dataDir });
  const token = first.adminToken;
  assert.equal(await first.stop('SIGINT'), 0);
  const second = await startServe({ dataDir });
  try {
    assert.equal(second.adminToken, token);
    assert.doesNotMatch(second.stderr(), /generated an admin token/);
  } finally {
    await second.stop();
  }
});

test('serve: a bad configuration names the field and exits 1', async () => {
  const dataDir = makeDataDir();
  const file = join(dataDir, 'keepwire.yaml');
  writeFileSync(file, 'watch:\n  intervalMs: -5\n');
  const result = await runCli(['serve', '--config', file, '--data-dir', dataDir]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /watch\.intervalMs: /);
});

test('cli: unknown commands and options are usage errors (exit 2)', async () => {
  const unknown = await runCli(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
  const badOption = await runCli(['serve', '--bogus']);
  assert.equal(badOption.code, 2);
  assert.match(badOption.stderr, /keepwire serve --help/);
  const help = await runCli(['serve', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--admin HOST:PORT/);
});
