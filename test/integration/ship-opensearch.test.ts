/**
 * `keepwire ship --sink opensearch` as a real process against the `_bulk`
 * test cluster (three nodes sharing one store): the "done means"
 * run, with seeded item failures (429, 500), mapping errors (400), documents
 * already there (409) and one node killed midway; then auth, gzip and the
 * text summary; and the start-up of `--to` without zod.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startBulkCluster } from '../support/bulk/index.ts';
import { startCountingServer } from '../support/counting-server.ts';
import { makeDataDir, runCli } from '../support/keepwire-process.ts';
import { seededRandom, testSeed } from '../support/seeded-random.ts';

const EVENTS = 10_000;
const MODULE_LOG_HOOK = new URL('../support/module-load-log.ts', import.meta.url).pathname;

interface Plan {
  readonly lines: string;
  /** Events a mapping refuses (http.response.status_code not a number). */
  readonly bad: Set<number>;
  /** Events already indexed before the run. */
  readonly present: Set<number>;
}

function eventLine(seq: number, isBad: boolean): string {
  const day = 5 + (seq % 3);
  const second = String(seq % 60).padStart(2, '0');
  return JSON.stringify({
    '@timestamp': `2024-05-0${day}T12:00:${second}.000Z`,
    event: { id: `ZjQ${seq.toString(36).padStart(6, '0')}AAAA`, kind: 'alert' },
    seq,
    source: { ip: `10.0.${seq % 256}.${(seq >> 8) % 256}`, port: 40_000 + (seq % 20_000) },
    http: { request: { method: 'GET' }, response: { status_code: isBad ? 'four-oh-three' : 403 } },
    url: { original: `/index.php?id=${seq}%27%20OR%201=1` },
    rule: { id: ['942100', '949110'] },
  });
}

function plan(seed: number): Plan {
  const random = seededRandom(seed);
  const bad = new Set<number>();
  const present = new Set<number>();
  let lines = '';
  for (let seq = 0; seq < EVENTS; seq += 1) {
    const roll = random();
    if (roll < 0.02) bad.add(seq);
    else if (roll < 0.05) present.add(seq);
    lines += `${eventLine(seq, bad.has(seq))}\n`;
  }
  return { lines, bad, present };
}

const indexOf = (seq: number) => `modsec-2024.05.0${5 + (seq % 3)}`;
const idOf = (seq: number) => `ZjQ${seq.toString(36).padStart(6, '0')}AAAA`;

test('done means: 10,000 events, random item failures, a node killed midway: each indexed once or dead-lettered with its reason', {
  timeout: 120_000,
}, async () => {
  const seed = testSeed('ship-opensearch done-means');
  const { lines, bad, present } = plan(seed);
  const { cluster, nodes, urls, close } = await startBulkCluster({ nodes: 3 });
  cluster.mappings = { 'http.response.status_code': 'long' };
  for (const seq of present) cluster.put(indexOf(seq), idOf(seq), eventLine(seq, false));
  cluster.setFaults({ seed, rate429: 0.05, rate500: 0.05 });
  const killAt = present.size + 3_000;
  let killedAt: number | undefined;
  cluster.afterBulk = () => {
    if (killedAt === undefined && cluster.documentCount >= killAt) {
      killedAt = cluster.documentCount;
      void nodes[1]!.stop();
    }
  };
  const dataDir = makeDataDir('kw-ship-os-');
  const input = join(dataDir, 'events.ndjson');
  writeFileSync(input, lines);
  try {
    const result = await runCli(
      [
        'ship',
        input,
        '--sink',
        'opensearch',
        '--to',
        urls.join(','),
        '--index',
        'modsec-%Y.%m.%d',
        '--batch-max-events',
        '100',
        '--concurrency',
        '3',
        '--data-dir',
        dataDir,
        '--json',
      ],
      { timeoutMs: 110_000 },
    );
    assert.equal(result.code, 1, `dead letters make exit 1:\n${result.stderr}`);
    assert.ok(
      killedAt !== undefined,
      `a node was killed midway: ${cluster.documentCount} stored, ${result.stdout} ${result.stderr.slice(0, 3000)}`,
    );
    assert.ok(nodes[1]!.requests.length > 0, 'the killed node had taken requests');
    assert.ok((cluster.itemStatuses.get(429) ?? 0) > 0 && (cluster.itemStatuses.get(500) ?? 0) > 0);
    const summary = JSON.parse(result.stdout);

    const stored = new Map<number, number>();
    for (const [index, id, source] of cluster.documents()) {
      const seq = source.seq as number;
      stored.set(seq, (stored.get(seq) ?? 0) + 1);
      assert.equal(id, idOf(seq), 'the _id is the event.id');
      assert.equal(index, indexOf(seq), 'the index is the date of @timestamp');
    }
    const letters = readFileSync(join(dataDir, 'dead-letter', 'ship.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const dead = new Map<number, number>();
    for (const letter of letters) {
      dead.set(letter.event.seq, (dead.get(letter.event.seq) ?? 0) + 1);
      assert.equal(letter.status, 400);
      assert.match(
        letter.reason,
        /mapper_parsing_exception: failed to parse field \[http\.response\.status_code\]/,
      );
      assert.equal(JSON.parse(letter.response).type, 'mapper_parsing_exception');
    }
    for (let seq = 0; seq < EVENTS; seq += 1) {
      const times = stored.get(seq) ?? 0;
      const letters = dead.get(seq) ?? 0;
      if (bad.has(seq))
        assert.deepEqual([times, letters], [0, 1], `seq ${seq} (bad) is dead-lettered once`);
      else assert.deepEqual([times, letters], [1, 0], `seq ${seq} is indexed once`);
    }
    assert.equal(summary.eventsRead, EVENTS);
    assert.equal(summary.eventsPending, 0);
    assert.equal(summary.deadLettered, bad.size);
    assert.equal(summary.eventsDelivered, EVENTS - bad.size);
    assert.ok(
      summary.eventsAlreadyPresent >= present.size,
      `${summary.eventsAlreadyPresent} already present, ${present.size} stored before the run`,
    );
  } finally {
    cluster.afterBulk = undefined;
    await close();
  }
});

test('ship --sink opensearch: basic auth from a file, gzip, the text summary; --to loads no zod', async () => {
  const dataDir = makeDataDir('kw-ship-os-auth-');
  const passwordFile = join(dataDir, 'indexer.pw');
  writeFileSync(passwordFile, 'admin-password\n');
  const { cluster, nodes, urls, close } = await startBulkCluster({
    node: { auth: `Basic ${Buffer.from('admin:admin-password').toString('base64')}` },
  });
  cluster.put('wazuh-alerts-4.x-2024.05.05', idOf(0), eventLine(0, false));
  const collector = await startCountingServer();
  const input = Array.from({ length: 30 }, (_, seq) => eventLine(seq, false)).join('\n');
  const moduleLog = join(dataDir, 'modules.log');
  const env = { NODE_OPTIONS: `--import=${MODULE_LOG_HOOK}`, KEEPWIRE_MODULE_LOG: moduleLog };
  try {
    const result = await runCli(
      [
        'ship',
        '--sink',
        'opensearch',
        '--to',
        urls[0]!,
        '--index',
        'wazuh-alerts-4.x-%Y.%m.%d',
        '--user',
        'admin',
        '--password-file',
        passwordFile,
        '--gzip',
      ],
      { input, env },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stderr,
      /30 of 30 events acknowledged .*: 29 indexed, 1 already present, 0 dead-lettered/,
    );
    assert.equal(cluster.documentCount, 30);
    assert.ok(nodes[0]!.requests.some((request) => request.headers['content-encoding'] === 'gzip'));
    const http = await runCli(['ship', '--to', `${collector.url}/ingest`], { input, env });
    assert.equal(http.code, 0, http.stderr);
    assert.match(http.stderr, /: 30 delivered, 0 dead-lettered/);
    const modules = readFileSync(moduleLog, 'utf8');
    assert.match(
      modules,
      /sinks\/opensearch\/opensearch-service\.ts/,
      'the log sees the modules loaded',
    );
    assert.doesNotMatch(modules, /node_modules\/zod\//, 'ship --to builds its sink without zod');
  } finally {
    await collector.close();
    await close();
  }
});
