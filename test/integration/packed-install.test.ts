/**
 * The package as an operator gets it: `npm pack` (which builds dist/ first)
 * and `npm install -g` of the tarball into a temporary prefix, then the
 * installed `keepwire` run as a real process: with Node.js 24 first on PATH
 * (the one running the tests) it answers --help, attributes sockets through
 * the fd-scan worker threads, ships a file (and a ModSecurity log, decoded
 * on the framing worker and the decode pool's threads) and serves; with the system
 * Node.js 20 first on PATH it prints its "needs Node.js 24" message.
 * One pack and one install for the whole file.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { startBulkCluster } from '../support/bulk/index.ts';
import { startCountingServer } from '../support/counting-server.ts';
import { runProcess, startServe } from '../support/keepwire-process.ts';
import { fixturePath } from '../support/modsecurity-fixtures.ts';
import { seqLines } from '../support/ship-serve.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const SYSTEM_NODE = '/usr/bin/node';
const work = mkdtempSync(join(tmpdir(), 'kw-packed-'));
const prefix = join(work, 'prefix');
const installed = join(prefix, 'bin', 'keepwire');
let packageDir = '';

after(() => rmSync(work, { recursive: true, force: true }));

before(() => {
  const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
    .trim()
    .split('\n')
    .at(-1)!;
  execFileSync(
    'npm',
    [
      'install',
      '--global',
      '--prefix',
      prefix,
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      join(work, tarball),
    ],
    { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  packageDir = join(prefix, 'lib', 'node_modules', 'keepwire');
});

/** Runs the installed command with `nodeDir` first on PATH (its shebang is `env node`). */
function runInstalled(args: string[], nodeDir: string, env: NodeJS.ProcessEnv = {}) {
  return runProcess(installed, args, {
    cwd: work,
    env: { PATH: `${nodeDir}:${process.env.PATH}`, ...env },
  });
}

const NODE_24 = dirname(process.execPath);

test('the package holds the build and no sources or tests', () => {
  const files = readdirSync(packageDir, { recursive: true, encoding: 'utf8' }).filter(
    (f) => !f.startsWith('node_modules'),
  );
  assert.ok(files.includes('dist/cli/main.js'));
  assert.ok(files.includes('dist/conntrack/fd-scan-worker.js'), 'the fd scan worker is built');
  assert.ok(files.includes('dist/pipeline/sources/frame-thread.js'), 'the framing thread is built');
  assert.ok(
    files.includes('dist/pipeline/sources/framer/framer.wasm'),
    'the wasm framer is copied',
  );
  assert.ok(files.includes('LICENSE'));
  assert.deepEqual(
    files.filter((f) => f.startsWith('src') || /test|harness/.test(f) || f.endsWith('.ts')),
    [],
    'no sources, tests or test helpers in the package',
  );
});

test('installed keepwire --help and a subcommand --help on Node.js 24', async () => {
  const help = await runInstalled(['--help'], NODE_24);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /Usage: keepwire COMMAND/);
  const version = await runInstalled(['--version'], NODE_24);
  assert.equal(version.code, 0, version.stderr);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal(version.stdout, `${pkg.version}\n`);
  const serveHelp = await runInstalled(['serve', '--help'], NODE_24);
  assert.equal(serveHelp.code, 0, serveHelp.stderr);
  assert.match(serveHelp.stdout, /Usage: keepwire serve/);
});

test('installed keepwire sockets --by process runs the fd scan on worker threads', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    // Threshold 0: the worker path, whatever this host's socket count.
    const run = await runInstalled(
      ['sockets', '--by', 'process', '--json', '--top', '1000'],
      NODE_24,
      {
        KEEPWIRE_FD_SCAN_WORKERS_FROM: '0',
      },
    );
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout) as { groups: { pid: number; count: number }[] };
    const own = summary.groups.find((g) => g.pid === process.pid);
    assert.ok(
      own && own.count >= 1,
      `this test's listening socket is attributed to pid ${process.pid}`,
    );
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test('installed keepwire ship delivers a file to a collector', async () => {
  const collector = await startCountingServer();
  try {
    const file = join(work, 'events.ndjson');
    writeFileSync(file, seqLines(0, 200));
    const run = await runInstalled(
      ['ship', file, '--to', `${collector.url}/ingest`, '--data-dir', join(work, 'ship'), '--json'],
      NODE_24,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).eventsRead, 200);
    assert.equal(collector.seen.size, 200);
  } finally {
    await collector.close();
  }
});

test('installed keepwire ship --from modsecurity decodes on its thread pool and indexes every record', async () => {
  const { cluster, urls, close } = await startBulkCluster();
  try {
    const log = fixturePath('real-3.0.9/json-serial.log');
    const records = readFileSync(log, 'utf8').trim().split('\n').length;
    const run = await runInstalled(
      [
        ...['ship', '--from', 'modsecurity', log, '--decode-threads', '2'],
        ...['--sink', 'opensearch', '--to', urls[0]!, '--data-dir', join(work, 'modsec'), '--json'],
      ],
      NODE_24,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).eventsDelivered, records);
    assert.equal(cluster.documentCount, records);
  } finally {
    await close();
  }
});

test('installed keepwire serve answers /healthz, serves the dashboard, and exits 0 on SIGTERM', async () => {
  const server = await startServe({
    command: installed,
    dataDir: join(work, 'serve'),
    env: { PATH: `${NODE_24}:${process.env.PATH}` },
  });
  try {
    const response = await fetch(`${server.adminUrl}/healthz`);
    assert.equal(response.status, 200);
    await response.body?.cancel();
    // The dashboard's page and every asset it names come from the package.
    const page = await fetch(`${server.adminUrl}/`);
    assert.equal(page.status, 200);
    for (const [, asset] of (await page.text()).matchAll(/(?:src|href)="([^"]+)"/g)) {
      const got = await fetch(`${server.adminUrl}${asset}`);
      assert.equal(got.status, 200, asset);
      await got.body?.cancel();
    }
  } finally {
    assert.equal(await server.stop('SIGTERM'), 0, server.stderr());
  }
});

test('installed keepwire on Node.js 20 prints that it needs Node.js 24 and exits non-zero', async () => {
  assert.ok(existsSync(SYSTEM_NODE), `${SYSTEM_NODE} (Debian nodejs) is installed by .ci/run`);
  const version = execFileSync(SYSTEM_NODE, ['--version'], { encoding: 'utf8' }).trim();
  assert.ok(
    Number(version.slice(1).split('.')[0]) < 24,
    `${SYSTEM_NODE} is older than 24 (${version})`,
  );
  const run = await runInstalled(['--help'], dirname(SYSTEM_NODE), { PATH: '/usr/bin:/bin' });
  assert.equal(run.code, 1);
  assert.match(run.stderr, /keepwire needs Node\.js 24 or newer; this is v\d+/);
  assert.doesNotMatch(run.stderr, /SyntaxError|ERR_/, 'no stack trace before the message');
});
