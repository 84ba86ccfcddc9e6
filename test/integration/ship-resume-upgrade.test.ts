/**
 * A `keepwire ship` data directory in the form older versions left it: the
 * buffer's segments without commit frames (the checkpoints were kept beside
 * it, in ship-inputs.latest.json). Made here from an interrupted run of this
 * version by taking the commit frames out of its segments (the ack cursor
 * moved to match). The rerun opens the buffer, says that the directory is
 * from an older Keepwire, resumes from the durable checkpoints, delivers
 * every event, and leaves the directory in the new form.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ledger } from '../../src/pipeline/buffer/disk/ledger.ts';
import { FRAME_HEADER_BYTES, META_FLAG } from '../../src/pipeline/buffer/disk/record-frame.ts';
import { startCountingServer } from '../support/counting-server.ts';
import { CLI, makeDataDir, runCli } from '../support/keepwire-process.ts';
import { seqLines, waitFor, writeShipConfig } from '../support/ship-serve.ts';

const TOTAL = 100_000;

/** Rewrites each segment of `dir` without its meta frames; the ledger's cursor follows. */
function toOlderForm(dir: string): void {
  const ledger = new Ledger(dir);
  const cursor = ledger.read();
  let moved = cursor;
  for (const name of readdirSync(dir).filter((entry) => entry.endsWith('.seg'))) {
    const id = Number(name.slice(0, 20));
    const bytes = readFileSync(join(dir, name));
    const kept: Buffer[] = [];
    let at = 0;
    let removedBeforeCursor = 0;
    while (at + FRAME_HEADER_BYTES <= bytes.length) {
      const word = bytes.readUInt32LE(at);
      const next = at + FRAME_HEADER_BYTES + (word >= META_FLAG ? word - META_FLAG : word);
      if (word < META_FLAG) kept.push(bytes.subarray(at, next));
      else if (cursor?.segment === id && at < cursor.offset) removedBeforeCursor += next - at;
      at = next;
    }
    writeFileSync(join(dir, name), Buffer.concat(kept));
    if (cursor?.segment === id)
      moved = { segment: id, offset: cursor.offset - removedBeforeCursor };
  }
  if (moved) ledger.write(moved, true);
  ledger.close();
}

test('ship: a data directory from an older Keepwire resumes from its durable checkpoints', {
  timeout: 300_000,
}, async (t) => {
  const collector = await startCountingServer();
  try {
    const dataDir = makeDataDir('kw-ship-upgrade-');
    const config = writeShipConfig(dataDir, {
      type: 'http',
      url: `${collector.url}/ingest`,
      concurrency: 2,
      batch: { maxEvents: 500, lingerMs: 5 },
      buffer: { type: 'disk', maxSizeBytes: 2 * 1024 * 1024, fsync: 1000 },
    });
    const input = join(dataDir, 'events.ndjson');
    writeFileSync(input, seqLines(0, TOTAL, 100));
    const child = spawn(
      process.execPath,
      [CLI, 'ship', input, '--config', config, '--data-dir', dataDir],
      {
        stdio: 'ignore',
      },
    );
    const exited = new Promise((resolve) => child.on('exit', resolve));
    // Past the first durable checkpoint (synced once a second), with most of the file unread.
    await waitFor(
      () =>
        collector.seen.size >= 20_000 &&
        JSON.parse(readFileSync(join(dataDir, 'ship-inputs.json'), 'utf8')).inputs[0].offset > 0,
      60_000,
      'a durable checkpoint',
    );
    child.kill('SIGKILL');
    await exited;
    toOlderForm(join(dataDir, 'buffers', 'ship'));
    writeFileSync(join(dataDir, 'ship-inputs.latest.json'), '{}');

    const resumed = await runCli(['ship', '--config', config, '--data-dir', dataDir, '--json'], {
      timeoutMs: 240_000,
    });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /was written by an older Keepwire.*may be sent twice/);
    const summary = JSON.parse(resumed.stdout);
    assert.equal(summary.isComplete, true);
    assert.equal(summary.inputs[0].state, 'resumed');
    let missing = 0;
    for (let seq = 0; seq < TOTAL; seq++) if (!collector.seen.has(seq)) missing += 1;
    assert.equal(missing, 0, `${missing} sequence numbers never sent`);
    t.diagnostic(`${collector.events - TOTAL} events sent twice`);
    assert.equal(existsSync(join(dataDir, 'ship-inputs.latest.json')), false);
  } finally {
    await collector.close();
  }
});
