/**
 * Fault: the disk under the buffer fills up (ENOSPC on a real 2 MiB tmpfs
 * mounted as the data directory of a real `keepwire serve`). Intake answers
 * 503 with Retry-After and SHIP_BUFFER_WRITE_FAILED while the buffer cannot
 * write, the process stays up, nothing already accepted is lost, and once
 * the sink drains (the full segment is deleted, space returns) intake and
 * shipping resume. Needs root to mount; skipped, saying so, without it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCountingServer } from '../support/counting-server.ts';
import {
  makeDataDir,
  seqLines,
  startShipServe,
  waitFor,
  writeShipConfig,
} from '../support/ship-serve.ts';

const PER_REQUEST = 200;
const TOTAL = 60_000; // about 5 MB of events through a 2 MiB disk

function mountTmpfs(dir: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

test('ENOSPC under the disk buffer: 503 + Retry-After, nothing accepted lost, resumes when space returns', {
  timeout: 90_000,
}, async (t) => {
  const dataDir = makeDataDir('kw-enospc-');
  if (!mountTmpfs(dataDir)) {
    t.skip('mount -t tmpfs is not permitted here (needs root); the seam tests cover ENOSPC');
    return;
  }
  t.after(() => execFileSync('umount', ['-l', dataDir]));
  const collector = await startCountingServer();
  collector.status = 503; // nothing drains: the buffer fills the disk
  const config = writeShipConfig(dataDir, {
    type: 'http',
    url: `${collector.url}/ingest`,
    batch: { maxEvents: 500, lingerMs: 5 },
    retry: { initialBackoffMs: 20, maxBackoffMs: 100 },
    buffer: { type: 'disk', maxSizeBytes: 64 << 20, fsync: 1000, retryAfterMs: 200 },
  });
  const serve = await startShipServe(dataDir, config);
  const accepted = new Set<number>();
  let writeFailures = 0;
  try {
    const post = async (from: number) => {
      const response = await fetch(`${serve.eventsUrl}/v1/events`, {
        method: 'POST',
        body: seqLines(from, from + PER_REQUEST, 20),
      });
      const body = await response.text();
      if (response.status === 200) {
        for (let seq = from; seq < from + PER_REQUEST; seq++) accepted.add(seq);
        return true;
      }
      assert.equal(response.status, 503, body);
      assert.ok(Number(response.headers.get('retry-after')) >= 1, 'Retry-After given');
      if (JSON.parse(body).error.code === 'SHIP_BUFFER_WRITE_FAILED') writeFailures += 1;
      return false;
    };
    let next = 0;
    // Fill the disk: posts are accepted until the buffer cannot write.
    while (writeFailures === 0) {
      assert.ok(next < TOTAL, 'the 2 MiB disk filled up before all events were posted');
      if (await post(next)) next += PER_REQUEST;
    }
    assert.ok(accepted.size > 0);
    assert.equal(serve.child.exitCode, null, 'serve is still running');
    assert.ok((await serve.metric('keepwire_pipeline_buffer_write_errors_total')) >= 1);
    assert.match(serve.stderr(), /disk buffer cannot write/);
    // Space returns as the sink drains: the full segment is deleted once delivered.
    collector.status = 200;
    while (next < TOTAL) {
      if (await post(next)) next += PER_REQUEST;
      else await sleep(50);
    }
    await waitFor(
      () => [...accepted].every((seq) => collector.seen.has(seq)),
      60_000,
      `all ${accepted.size} accepted events delivered`,
    );
    const lost = [...accepted].filter((seq) => !collector.seen.has(seq));
    assert.deepEqual(lost, []);
    assert.equal(accepted.size, TOTAL, 'intake resumed: every event accepted in the end');
  } finally {
    await serve.stop();
    await collector.close();
  }
});
