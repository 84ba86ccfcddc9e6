/**
 * What a `keepwire sockets` run loads, and in which order: the kernel's
 * socket dump (netlink-dump.ts, which spawns ss) before the modules that read
 * and count it, so ss runs while they load; no dependency from node_modules;
 * a count never loads the fd scan. Checked by the modules a real run loads
 * (module-load-log.ts); the time it saves is measured in bench/sockets.ts.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { makeDataDir, runCli } from '../support/keepwire-process.ts';

const MODULE_LOG_HOOK = new URL('../support/module-load-log.ts', import.meta.url).pathname;

async function loadedBy(args: string[]): Promise<{ stdout: string; modules: string[] }> {
  const log = join(makeDataDir('kw-sockets-modules-'), 'modules.log');
  const run = await runCli(args, {
    env: { NODE_OPTIONS: `--import=${MODULE_LOG_HOOK}`, KEEPWIRE_MODULE_LOG: log },
  });
  assert.equal(run.code, 0, run.stderr);
  const modules = readFileSync(log, 'utf8')
    .split('\n')
    .filter((url) => url.startsWith('file:'))
    .map((url) => url.replace(/^.*?\/(src|node_modules)\//, '$1/'));
  return { stdout: run.stdout, modules };
}

/** A listening socket of this process's, for the test's life. */
async function listen(t: TestContext): Promise<void> {
  const server = createServer().listen(0, '127.0.0.1');
  t.after(() => server.close());
  await once(server, 'listening');
}

function assertBefore(modules: string[], first: string, then: string): void {
  const a = modules.indexOf(first);
  const b = modules.indexOf(then);
  assert.ok(a >= 0 && b >= 0, `${first} and ${then} both load: ${modules.join(', ')}`);
  assert.ok(a < b, `${first} loads before ${then}: ${modules.join(', ')}`);
}

test('sockets --json starts the dump before loading its reader, and counts without the fd scan', async (t) => {
  await listen(t);
  const { stdout, modules } = await loadedBy(['sockets', '--json']);
  assertBefore(modules, 'src/conntrack/netlink-dump.ts', 'src/conntrack/netlink-reader.ts');
  assertBefore(modules, 'src/conntrack/netlink-dump.ts', 'src/conntrack/netlink-parser.ts');
  const unwanted = modules.filter(
    (m) => m.startsWith('node_modules/') || /(fd-scan|process-attribution|process-summary)/.test(m),
  );
  assert.deepEqual(unwanted, []);
  const summary = JSON.parse(stdout);
  assert.deepEqual(Object.keys(summary), [
    'total',
    'states',
    'takenAt',
    'source',
    'filter',
    'skipped',
  ]);
  assert.equal(summary.source, 'netlink');
  assert.deepEqual(summary.filter, {});
  const sum = Object.values(summary.states as Record<string, number>).reduce((a, b) => a + b, 0);
  assert.equal(summary.total, sum);
  assert.ok(summary.states.LISTEN >= 1, 'this test listens');
});

test('sockets --by process starts the dump before loading the fd scan', async (t) => {
  await listen(t);
  const { stdout, modules } = await loadedBy(['sockets', '--by', 'process', '--json']);
  assertBefore(modules, 'src/conntrack/netlink-dump.ts', 'src/conntrack/process-summary.ts');
  assertBefore(modules, 'src/conntrack/netlink-dump.ts', 'src/conntrack/fd-scan.ts');
  assert.deepEqual(
    modules.filter((m) => m.startsWith('node_modules/')),
    [],
  );
  const summary = JSON.parse(stdout);
  assert.equal(summary.by, 'process');
  assert.ok(summary.groups.some((g: { pid: number }) => g.pid === process.pid));
});
