/**
 * `keepwire ship` as a real process against a real collector: files and
 * standard input, the exit status, the JSON summary, a rejecting sink, and
 * a run that resumes from its --data-dir after being stopped.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { startCountingServer } from '../support/counting-server.ts';
import { CLI, makeDataDir, runCli } from '../support/keepwire-process.ts';
import { seqLines, waitFor } from '../support/ship-serve.ts';

test('ship: files and standard input, every event acknowledged, exit 0 with a JSON summary', async () => {
  const collector = await startCountingServer();
  const dir = makeDataDir('kw-ship-');
  try {
    writeFileSync(join(dir, 'a.ndjson'), seqLines(0, 3000));
    writeFileSync(join(dir, 'b.ndjson'), seqLines(3000, 5000));
    const files = await runCli([
      'ship',
      join(dir, 'a.ndjson'),
      join(dir, 'b.ndjson'),
      '--to',
      `${collector.url}/ingest`,
      '--batch-max-events',
      '250',
      '--concurrency',
      '2',
      '--json',
    ]);
    assert.equal(files.code, 0, files.stderr);
    const summary = JSON.parse(files.stdout);
    assert.equal(summary.eventsRead, 5000);
    assert.equal(summary.eventsPending, 0);
    assert.equal(summary.isComplete, true);
    assert.equal(collector.seen.size, 5000);
    assert.ok(collector.requests >= 20, 'batches of at most 250 events');
    assert.ok(
      collector.connections() <= 2,
      `${collector.connections()} connections for concurrency 2`,
    );
    assert.doesNotMatch(
      files.stderr,
      /\r/,
      'no progress bar when standard error is not a terminal',
    );

    const stdin = await runCli(['ship', '--to', `${collector.url}/ingest`], {
      input: seqLines(5000, 5100),
    });
    assert.equal(stdin.code, 0, stdin.stderr);
    assert.match(stdin.stderr, /100 of 100 events acknowledged/);
    assert.equal(collector.seen.size, 5100);
  } finally {
    await collector.close();
  }
});

test('ship: a rejecting sink gives exit 1 and names the dead-letter file', async () => {
  const collector = await startCountingServer();
  collector.status = 400;
  const dataDir = makeDataDir('kw-ship-400-');
  try {
    const result = await runCli(['ship', '--to', collector.url, '--data-dir', dataDir], {
      input: seqLines(0, 10),
    });
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      new RegExp(`dead-letter file at ${join(dataDir, 'dead-letter', 'ship.ndjson')}`),
    );
  } finally {
    await collector.close();
  }
});

test('ship: standard input keeps the run open; an interrupted run resumes from its data dir', async () => {
  const collector = await startCountingServer();
  collector.status = 503;
  const dataDir = makeDataDir('kw-ship-resume-');
  try {
    const child = spawn(
      process.execPath,
      [CLI, 'ship', '--to', collector.url, '--data-dir', dataDir],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.stdin.write(seqLines(0, 50));
    await waitFor(() => collector.requests >= 1, 10_000, 'a first attempt');
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 1);
    assert.match(stderr, /50 events not yet acknowledged/);
    collector.status = 200;
    const resumed = await runCli(['ship', '--to', collector.url, '--data-dir', dataDir], {
      input: '',
    });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(collector.seen.size, 50);
  } finally {
    await collector.close();
  }
});

test('ship: --config takes the sink from a configuration file (--sink NAME)', async () => {
  const dataDir = makeDataDir('kw-ship-config-');
  const config = join(dataDir, 'keepwire.yaml');
  const out = join(dataDir, 'shipped.ndjson');
  writeFileSync(
    config,
    stringify({
      pipeline: {
        sources: { events: { type: 'http' } },
        sinks: { archive: { type: 'file', path: out }, drop: { type: 'blackhole' } },
        routes: { events: ['archive'] },
      },
    }),
  );
  const ambiguous = await runCli(['ship', '--config', config], { input: seqLines(0, 5) });
  assert.equal(ambiguous.code, 2);
  assert.match(ambiguous.stderr, /--sink NAME.*archive, drop/);
  const result = await runCli(
    ['ship', '--config', config, '--sink', 'archive', '--data-dir', dataDir],
    {
      input: seqLines(0, 5),
    },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 5);
});

test('ship: usage errors exit 2 and --help teaches with examples', async () => {
  const missing = await runCli(['ship']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--to URL or --config FILE/);
  const dir = makeDataDir('kw-ship-usage-');
  const absent = await runCli(['ship', join(dir, 'absent.ndjson'), '--to', 'http://127.0.0.1:9/']);
  assert.equal(absent.code, 2);
  assert.match(absent.stderr, /cannot read .*absent\.ndjson \(ENOENT\); give NDJSON files/);
  const directory = await runCli(['ship', dir, '--to', 'http://127.0.0.1:9/']);
  assert.equal(directory.code, 2);
  assert.match(directory.stderr, /is a directory; give its files/);
  for (const [args, message] of [
    [['--from', 'modsecurity', '--decode-threads', 'two'], /--decode-threads takes a whole number/],
    [
      ['--from', 'modsecurity', '--decode-threads', '65'],
      /--decode-threads takes a whole number from 0 to 64/,
    ],
    [['--decode-threads', '2'], /--decode-threads goes with --from modsecurity/],
  ] as const) {
    const wrong = await runCli(['ship', '-', '--to', 'http://127.0.0.1:9/', ...args]);
    assert.equal(wrong.code, 2, args.join(' '));
    assert.match(wrong.stderr, message);
  }
  const help = await runCli(['ship', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Examples:/);
  assert.match(help.stdout, /--batch-max-bytes/);
  assert.match(help.stdout, /--decode-threads N/);
});

test('ship: lines that are not JSON objects are skipped and counted; --shape-only checks only the shape', async () => {
  const collector = await startCountingServer({ parse: false, countSeq: false });
  const dir = makeDataDir('kw-ship-invalid-');
  try {
    const path = join(dir, 'mixed.ndjson');
    writeFileSync(
      path,
      Buffer.concat([
        Buffer.from('{"a":1}\nnot json\n  {"b":2}  \n{"cut":\n{"bad" 1}\n'),
        Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]),
      ]),
    );
    const strict = await runCli(['ship', path, '--to', collector.url, '--json']);
    assert.equal(strict.code, 1, 'skipped lines make the exit status 1');
    assert.equal(JSON.parse(strict.stdout).eventsRejectedAtInput, 4);
    assert.equal(collector.events, 2, 'only {"a":1} and {"b":2} reach the collector');
    assert.match(strict.stderr, /skipped 4 input line\(s\)/);
    const shape = await runCli(['ship', path, '--to', collector.url, '--shape-only', '--json']);
    assert.equal(shape.code, 1);
    assert.equal(JSON.parse(shape.stdout).eventsRejectedAtInput, 3);
    assert.equal(collector.events, 5, 'the shaped {"bad" 1} passes a shape-only check');
  } finally {
    await collector.close();
  }
});
