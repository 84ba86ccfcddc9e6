/**
 * The driver's window (ack-window.ts) through the real driver, memory
 * buffer and HTTP sink service, against a collector that holds the answer
 * to the first batch: the other worker delivers the second batch, then
 * takes no third one until the first is acknowledged, so at most
 * `concurrency` batches are ever unacknowledged in order (what a crash
 * would send again).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, createRegistry } from '../../telemetry/index.ts';
import { MemoryBuffer } from '../buffer/memory.ts';
import { SinkDriver } from './driver.ts';
import { httpSinkSchema } from './http/config.ts';
import { createHttpSinkService } from './http/index.ts';

const BATCH = 10;

test('a batch delivered ahead of a slow one: no further batch is taken until the slow one is acknowledged', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keepwire-window-'));
  const bodies: string[] = [];
  let held: ServerResponse | undefined;
  const server = createServer(async (request, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    bodies.push(body);
    if (body.includes('"seq":0,')) held = response;
    else response.writeHead(204).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`;
  const registry = createRegistry({ processMetrics: false });
  const logger = createLogger({ level: 'silent' });
  const buffer = new MemoryBuffer({ maxEvents: 1000 });
  const config = httpSinkSchema.parse({ type: 'http', url });
  const driver = new SinkDriver({
    name: 'w',
    buffer,
    service: createHttpSinkService(config, { name: 'w', concurrency: 2, registry, logger }),
    concurrency: 2,
    batch: { maxEvents: BATCH, maxBytes: 1 << 20, lingerMs: 0 },
    retry: { initialBackoffMs: 20, maxBackoffMs: 200 },
    deadLetterPath: join(dir, 'dead.ndjson'),
    registry,
    logger,
  });
  try {
    const records = Array.from({ length: 5 * BATCH }, (_, seq) =>
      Buffer.from(JSON.stringify({ seq, pad: 'x' })),
    );
    await buffer.append(records);
    driver.start();
    const deadline = Date.now() + 30_000;
    // The first batch is held; the second is delivered and acknowledged.
    while (!(held && bodies.length >= 2 && buffer.pendingEvents === 4 * BATCH)) {
      assert.ok(Date.now() < deadline, `waiting for two sends (${bodies.length})`);
      await sleep(10);
    }
    // The worker that delivered the second batch would send the third now if it could.
    for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(bodies.length, 2, 'no third batch while the first is unacknowledged');
    held!.writeHead(204).end();
    while (buffer.pendingEvents > 0) {
      assert.ok(Date.now() < deadline, `waiting for the rest (${buffer.pendingEvents} left)`);
      await sleep(10);
    }
    assert.equal(bodies.length, 5);
  } finally {
    await driver.stop();
    await buffer.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  }
});
