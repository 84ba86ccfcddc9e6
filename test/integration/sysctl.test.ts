import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { test } from 'node:test';
import { runCli } from '../support/keepwire-process.ts';

test('sysctl audit: JSON from the real /proc/sys, text, and usage errors', async () => {
  const result = await runCli(['sysctl', 'audit', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const audit = JSON.parse(result.stdout);
  assert.equal(audit.kernel, release());
  const fin = audit.checks.find((c: { name: string }) => c.name === 'net.ipv4.tcp_fin_timeout');
  assert.equal(fin.value, Number(readFileSync('/proc/sys/net/ipv4/tcp_fin_timeout', 'utf8')));
  assert.match(fin.reference, /Documentation\/networking\/ip-sysctl\.rst/);
  for (const check of audit.checks)
    assert.ok(['ok', 'warn', 'critical', 'absent'].includes(check.status));

  const text = await runCli(['sysctl', 'audit']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^Kernel /);
  assert.match(text.stdout, /\] net\.ipv4\.tcp_tw_reuse = /);

  const usage = await runCli(['sysctl']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /run "keepwire sysctl audit"/);
  const help = await runCli(['sysctl', '--help']);
  assert.match(help.stdout, /Examples:/);
});
