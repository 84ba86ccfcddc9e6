/**
 * `keepwire serve` from configuration: a file source with `format:
 * modsecurity` (a serial log in JSON and Native, and a concurrent index
 * whose files sit under `storageDir`) routed to an `opensearch` sink, the
 * `_bulk` test cluster behind it. Records written while it runs and while
 * it is stopped arrive each once; malformed ones are counted.
 */
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startBulkCluster } from '../support/bulk/index.ts';
import { writeModsecurityConfig } from '../support/modsecurity-to-opensearch.ts';
import { makeDataDir, startShipServe, waitFor } from '../support/ship-serve.ts';

const REAL = new URL('../fixtures/modsecurity/real-3.0.9/', import.meta.url).pathname;

test('serve: file source format modsecurity into the opensearch sink, across a restart, each transaction once', {
  timeout: 60_000,
}, async () => {
  const { cluster, urls, close } = await startBulkCluster();
  const dataDir = makeDataDir('kw-serve-modsec-');
  const serial = join(dataDir, 'audit.log');
  const index = join(dataDir, 'index.log');
  const storage = join(dataDir, 'storage');
  cpSync(join(REAL, 'concurrent', '20261123'), join(storage, '20261123'), { recursive: true });
  const json = readFileSync(join(REAL, 'json-serial.log'), 'utf8').trim().split('\n');
  const native = readFileSync(join(REAL, 'native-serial.log'), 'utf8').split(
    /(?=^---\w{8}---A--$)/m,
  );
  const indexLines = readFileSync(join(REAL, 'concurrent', 'index.log'), 'utf8')
    .trim()
    .split('\n');
  writeFileSync(serial, `${json.slice(0, 4).join('\n')}\n${native.slice(0, 4).join('')}`);
  writeFileSync(index, `${indexLines.slice(0, 4).join('\n')}\n`);
  const config = writeModsecurityConfig(dataDir, urls, {
    modsec: { include: [serial] },
    modsecIndex: { include: [index], storageDir: storage },
  });
  let serve: Awaited<ReturnType<typeof startShipServe>> | undefined;
  try {
    serve = await startShipServe(dataDir, config);
    await waitFor(() => cluster.documentCount === 12, 20_000, 'the first 12 transactions');
    appendFileSync(serial, `${json[4]}\n${native[4]}{"transaction": {"client_ip"\n`);
    await waitFor(() => cluster.documentCount === 14, 20_000, 'records appended while running');
    const running = serve;
    await waitFor(
      async () =>
        (await running.metric('keepwire_pipeline_events_rejected_total', 'reason="invalid"')) === 1,
      10_000,
      'the truncated JSON record counted',
    );
    assert.equal(await serve.stop(), 0);

    appendFileSync(serial, `${json.slice(5).join('\n')}\n${native.slice(5).join('')}`);
    appendFileSync(index, `${indexLines.slice(4).join('\n')}\n`);
    serve = await startShipServe(dataDir, config);
    await waitFor(() => cluster.documentCount === 24, 20_000, 'records written while stopped');
    const ids = [...cluster.documents()].map(([, id]) => id);
    assert.equal(new Set(ids).size, 24, 'each transaction once');
    for (const [, , source] of cluster.documents()) {
      const event = source as {
        source: { ip: string };
        http: { response: { status_code: number } };
      };
      assert.match(event.source.ip, /^(127\.0\.0\.1|::1)$/);
      assert.ok([200, 403].includes(event.http.response.status_code));
    }
    assert.equal(await serve.stop(), 0);
  } finally {
    await serve?.stop('SIGKILL');
    await close();
  }
});
