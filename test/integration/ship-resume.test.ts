/**
 * `keepwire ship` interrupted mid-run (kill -9, SIGTERM) with 200,000
 * sequence-numbered events in a file and a 2 MB buffer (so most of the file
 * is still unread), then run again as the message says: with --data-dir
 * alone, or with the same file. Every sequence number arrives, and the
 * duplicates stay within what was in flight: the sink batches sent and not
 * acknowledged (each chunk's checkpoint is committed in the buffer in the
 * same write as its events, so a rerun reads nothing twice, wherever the
 * kill lands). The kill point is drawn from a seed (KEEPWIRE_TEST_SEED
 * replays one). A different file at the same path is read from the start.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { type CountingServer, startCountingServer } from '../support/counting-server.ts';
import { CLI, makeDataDir, runCli } from '../support/keepwire-process.ts';
import { seededRandom, testSeed } from '../support/seeded-random.ts';
import { seqLines, waitFor, writeShipConfig } from '../support/ship-serve.ts';

const TOTAL = 200_000;
const PAD = 100;
const SINK_BATCH = 500;
const CONCURRENCY = 2;
/** What a rerun may send again: the sink batches sent and not yet acknowledged at the kill. */
const IN_FLIGHT = CONCURRENCY * SINK_BATCH;
const random = seededRandom(testSeed('ship-resume kill points'));
/** Events the collector has seen when the run is stopped: 20,000 to 60,000, drawn from the seed. */
const killPoint = () => 20_000 + Math.floor(random() * 40_000);

interface Run {
  readonly dataDir: string;
  readonly config: string;
  readonly input: string;
}

function prepare(collector: CountingServer, prefix: string): Run {
  const dataDir = makeDataDir(prefix);
  const config = writeShipConfig(dataDir, {
    type: 'http',
    url: `${collector.url}/ingest`,
    concurrency: CONCURRENCY,
    batch: { maxEvents: SINK_BATCH, lingerMs: 5 },
    buffer: { type: 'disk', maxSizeBytes: 2 * 1024 * 1024, fsync: 1000 },
  });
  const input = join(dataDir, 'events.ndjson');
  writeFileSync(input, seqLines(0, TOTAL, PAD));
  return { dataDir, config, input };
}

/** Starts `keepwire ship` on the file and stops it with `signal` once the collector saw `after` events. */
async function interrupt(
  run: Run,
  collector: CountingServer,
  signal: NodeJS.Signals,
  after: number,
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(
    process.execPath,
    [CLI, 'ship', run.input, '--config', run.config, '--data-dir', run.dataDir],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  await waitFor(() => collector.seen.size >= after, 40_000, `${after} events at the collector`);
  child.kill(signal);
  const code = await exited;
  return { code, stderr };
}

/** Every sequence number arrived; the duplicates are at most the batches in flight. */
function assertEveryEventAtLeastOnce(t: TestContext, collector: CountingServer): void {
  let missing = 0;
  let duplicates = 0;
  for (let seq = 0; seq < TOTAL; seq++) {
    const count = collector.seen.get(seq) ?? 0;
    if (count === 0) missing += 1;
    duplicates += Math.max(0, count - 1);
  }
  t.diagnostic(`${duplicates} duplicates (at most ${IN_FLIGHT} in flight)`);
  assert.equal(missing, 0, `${missing} sequence numbers never sent`);
  assert.ok(
    duplicates <= IN_FLIGHT,
    `${duplicates} duplicates, more than the ${IN_FLIGHT} in flight`,
  );
}

test('ship: kill -9 mid-run, then --data-dir alone: every event, duplicates only in flight', {
  timeout: 300_000,
}, async (t) => {
  const collector = await startCountingServer();
  try {
    const run = prepare(collector, 'kw-ship-kill9-');
    const killed = await interrupt(run, collector, 'SIGKILL', killPoint());
    assert.equal(killed.code, null);
    assert.ok(collector.seen.size < TOTAL * 0.8, 'killed with most of the file still unread');
    const resumed = await runCli(
      ['ship', '--config', run.config, '--data-dir', run.dataDir, '--json'],
      { timeoutMs: 240_000 },
    );
    assert.equal(resumed.code, 0, resumed.stderr);
    assertEveryEventAtLeastOnce(t, collector);
    assert.match(resumed.stderr, /going on with the 1 input\(s\) the interrupted run/);
    const summary = JSON.parse(resumed.stdout);
    assert.equal(summary.isComplete, true);
    assert.equal(summary.inputs.length, 1);
    assert.equal(summary.inputs[0].state, 'resumed');
    assert.ok(summary.inputs[0].offset > 0);
    assert.deepEqual(summary.inputsUnfinished, []);
  } finally {
    await collector.close();
  }
});

test('ship: SIGTERM mid-run names the unread file; --data-dir alone finishes it', {
  timeout: 300_000,
}, async (t) => {
  const collector = await startCountingServer();
  try {
    const run = prepare(collector, 'kw-ship-term-');
    const stopped = await interrupt(run, collector, 'SIGTERM', killPoint());
    assert.equal(stopped.code, 1, stopped.stderr);
    const resumed = await runCli(['ship', '--config', run.config, '--data-dir', run.dataDir], {
      timeoutMs: 240_000,
    });
    assert.equal(resumed.code, 0, resumed.stderr);
    assertEveryEventAtLeastOnce(t, collector);
    assert.match(stopped.stderr, /and 1 file\(s\) not read to their end \(.*events\.ndjson\)/);
    assert.match(resumed.stderr, /resumed .*events\.ndjson at byte \d+ \(after line \d+\)/);
  } finally {
    await collector.close();
  }
});

test('ship: kill -9, then the same file again: no duplicates beyond in flight; a changed file is read from 0', {
  timeout: 300_000,
}, async (t) => {
  const collector = await startCountingServer();
  try {
    const run = prepare(collector, 'kw-ship-same-');
    await interrupt(run, collector, 'SIGKILL', killPoint());
    const again = ['ship', run.input, '--config', run.config, '--data-dir', run.dataDir, '--json'];
    const resumed = await runCli(again, { timeoutMs: 240_000 });
    assert.equal(resumed.code, 0, resumed.stderr);
    assertEveryEventAtLeastOnce(t, collector);
    assert.equal(JSON.parse(resumed.stdout).inputs[0].state, 'resumed');

    // Shipped whole: the same file again sends nothing.
    const before = collector.events;
    const whole = await runCli(again);
    assert.equal(whole.code, 0, whole.stderr);
    assert.equal(JSON.parse(whole.stdout).eventsRead, 0);
    assert.equal(collector.events, before);

    // Another file at the same path (rewritten in place: same inode) is read from the start.
    writeFileSync(run.input, seqLines(TOTAL, TOTAL + 1000, PAD));
    const changed = await runCli(again);
    assert.equal(changed.code, 0, changed.stderr);
    const report = JSON.parse(changed.stdout);
    assert.equal(report.inputs[0].state, 'changed');
    assert.match(report.inputs[0].reason, /shorter|first \d+ bytes changed/);
    assert.equal(report.eventsRead, 1000);
    for (let seq = TOTAL; seq < TOTAL + 1000; seq++) assert.equal(collector.seen.get(seq), 1);
  } finally {
    await collector.close();
  }
});
