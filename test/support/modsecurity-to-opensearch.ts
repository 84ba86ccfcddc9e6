/**
 * A real ModSecurity writing its audit log in one mode (serial or
 * concurrent, JSON or Native), read two ways into the `_bulk` test cluster:
 * tailed by `keepwire serve` (a file source with `format: modsecurity` to
 * an `opensearch` sink) while the attacks are sent, and shipped afterwards
 * by `keepwire ship --from modsecurity --sink opensearch`. Each way, every
 * transaction must arrive once, with its rule ids, client address and
 * status.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ModsecurityEvent } from '../../src/pipeline/codecs/modsecurity/index.ts';
import { type BulkCluster, startBulkCluster } from './bulk/index.ts';
import { runCli } from './keepwire-process.ts';
import { ATTACKS, type ModsecurityMode, RealModsecurity } from './modsecurity.ts';
import { makeDataDir, startShipServe, waitFor } from './ship-serve.ts';

const ROUNDS = 2;

function indexed(cluster: BulkCluster): ModsecurityEvent[] {
  return [...cluster.documents()].map(([, , source]) => source as unknown as ModsecurityEvent);
}

/** Every attack's transactions once each, with its client, status and rule ids. */
function assertTransactions(events: ModsecurityEvent[], how: string): void {
  const total = ATTACKS.length * ROUNDS;
  assert.equal(events.length, total, `${how}: each transaction once`);
  assert.equal(new Set(events.map((event) => event.event.id)).size, total, `${how}: distinct ids`);
  for (const attack of ATTACKS) {
    const mine = events.filter((event) => event.url?.original === attack.uri);
    assert.equal(mine.length, ROUNDS, `${how}: ${attack.uri}`);
    for (const event of mine) {
      assert.equal(event.source?.ip, attack.ipv6 ? '::1' : '127.0.0.1');
      assert.equal(event.http?.response?.status_code, attack.status, `${how}: ${attack.uri}`);
      for (const id of attack.ruleIds)
        assert.ok(event.rule?.id.includes(id), `${how}: ${attack.uri} has rule ${id}`);
    }
  }
}

/**
 * A configuration for `serve`: file sources with `format: modsecurity` (and
 * the http source `events` that startShipServe waits for) routed to an
 * `opensearch` sink on `endpoints`.
 */
export function writeModsecurityConfig(
  dataDir: string,
  endpoints: readonly string[],
  sources: Record<string, { include: string[]; storageDir?: string }>,
): string {
  const config = join(dataDir, 'keepwire.yaml');
  const files = Object.fromEntries(
    Object.entries(sources).map(([name, source]) => [
      name,
      { type: 'file', format: 'modsecurity', pollIntervalMs: 50, ...source },
    ]),
  );
  writeFileSync(
    config,
    stringify({
      watch: { enabled: false },
      pipeline: {
        sources: { events: { type: 'http', listen: '127.0.0.1:0' }, ...files },
        sinks: {
          indexer: {
            type: 'opensearch',
            endpoints,
            index: 'modsec-%Y.%m.%d',
            batch: { lingerMs: 10 },
          },
        },
        routes: Object.fromEntries(
          ['events', ...Object.keys(sources)].map((name) => [name, ['indexer']]),
        ),
      },
    }),
  );
  return config;
}

export async function modsecurityToOpensearch(mode: ModsecurityMode): Promise<void> {
  const tailed = await startBulkCluster();
  const shipped = await startBulkCluster();
  const modsecurity = await RealModsecurity.start({ mode });
  const dataDir = makeDataDir(`kw-modsec-${mode}-`);
  const config = writeModsecurityConfig(dataDir, tailed.urls, {
    audit: { include: [modsecurity.auditLog] },
  });
  const serve = await startShipServe(dataDir, config).catch(async (error) => {
    await Promise.all([modsecurity.dispose(), tailed.close(), shipped.close()]);
    throw error;
  });
  try {
    const statuses = await modsecurity.sendAttacks(ROUNDS);
    assert.deepEqual(
      statuses,
      Array.from({ length: ROUNDS }, () => ATTACKS.map((attack) => attack.status)).flat(),
    );
    const total = ATTACKS.length * ROUNDS;
    await waitFor(
      () => tailed.cluster.documentCount >= total,
      30_000,
      `${total} transactions tailed by serve`,
    );
    await modsecurity.stop(); // every entry written and closed
    assertTransactions(indexed(tailed.cluster), 'serve');
    assert.equal(await serve.metric('keepwire_pipeline_events_rejected_total'), 0);

    const result = await runCli([
      'ship',
      '--from',
      'modsecurity',
      modsecurity.auditLog,
      '--sink',
      'opensearch',
      '--to',
      shipped.urls[0]!,
      '--index',
      'modsec-%Y.%m.%d',
      '--json',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.equal(summary.eventsRead, total);
    assert.deepEqual(summary.malformed, []);
    assertTransactions(indexed(shipped.cluster), 'ship');
  } finally {
    await modsecurity.dispose();
    assert.equal(await serve.stop(), 0);
    await Promise.all([tailed.close(), shipped.close()]);
  }
}
