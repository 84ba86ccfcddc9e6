/**
 * Fault: a corrupted disk buffer under a real `keepwire serve`. After a
 * kill -9, one record of a segment is damaged on disk and a directory named
 * like a segment appears. The restart succeeds, the damage is logged once
 * with its segment and offset and counted (one event), every other event is
 * delivered, and a further restart counts nothing again.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startCountingServer } from '../support/counting-server.ts';
import {
  makeDataDir,
  seqLines,
  startShipServe,
  waitFor,
  writeShipConfig,
} from '../support/ship-serve.ts';

const EVENTS = 1000;
const DAMAGED_SEQ = 123;

/** Flips a payload byte of the record holding `"seq":SEQ,` in the segments of `dir`. */
function damageRecord(dir: string, seq: number): void {
  const needle = Buffer.from(`{"seq":${seq},`);
  for (const name of readdirSync(dir).filter((entry) => entry.endsWith('.seg'))) {
    const path = join(dir, name);
    const bytes = readFileSync(path);
    for (let at = 0; at + 8 <= bytes.length; at += 8 + bytes.readUInt32LE(at)) {
      if (bytes.indexOf(needle, at + 8) !== at + 8) continue;
      bytes.writeUInt8(bytes.readUInt8(at + 20) ^ 0x01, at + 20);
      writeFileSync(path, bytes);
      return;
    }
  }
  throw new Error(`no record of seq ${seq} found in ${dir}`);
}

test('a corrupted buffer: the restart succeeds, the loss is logged and counted once, the rest arrives', {
  timeout: 60_000,
}, async () => {
  const collector = await startCountingServer();
  collector.status = 503; // keep everything in the buffer
  const dataDir = makeDataDir('kw-corrupt-');
  const config = writeShipConfig(dataDir, {
    type: 'http',
    url: `${collector.url}/ingest`,
    retry: { initialBackoffMs: 20, maxBackoffMs: 100 },
    buffer: { type: 'disk', fsync: 'always' },
  });
  let serve = await startShipServe(dataDir, config);
  try {
    for (let from = 0; from < EVENTS; from += 200) {
      const response = await fetch(`${serve.eventsUrl}/v1/events`, {
        method: 'POST',
        body: seqLines(from, from + 200, 20),
      });
      assert.equal(response.status, 200, await response.text());
    }
    await serve.stop('SIGKILL');
    const bufferDir = join(dataDir, 'buffers', 'out');
    damageRecord(bufferDir, DAMAGED_SEQ);
    mkdirSync(join(bufferDir, `${'7'.padStart(20, '0')}.seg`));

    serve = await startShipServe(dataDir, config);
    assert.equal(
      await serve.metric('keepwire_pipeline_events_dropped_total', 'reason="corrupt"'),
      1,
    );
    const damage = serve
      .stderr()
      .split('\n')
      .filter((line) => line.includes('disk buffer damage found'));
    assert.equal(damage.length, 2, `one line per damaged region:\n${damage.join('\n')}`);
    assert.ok(damage.some((line) => /"kind":"corrupt".*"events":1/.test(line)));
    assert.ok(damage.some((line) => /"kind":"unreadable"/.test(line)));
    assert.ok(damage.every((line) => /"segment":\d+/.test(line) && /"offset":\d+/.test(line)));

    collector.status = 200;
    await waitFor(() => collector.seen.size === EVENTS - 1, 30_000, 'every undamaged event');
    assert.equal(collector.seen.has(DAMAGED_SEQ), false);
    await serve.stop();
    serve = await startShipServe(dataDir, config);
    assert.equal(
      await serve.metric('keepwire_pipeline_events_dropped_total', 'reason="corrupt"'),
      0,
      'the damage is counted once, not at every start',
    );
    assert.doesNotMatch(serve.stderr(), /disk buffer damage found/);
  } finally {
    await serve.stop();
    await collector.close();
  }
});
