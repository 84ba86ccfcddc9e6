/**
 * `keepwire ship --from modsecurity --sink opensearch` as a real process
 * against the `_bulk` test cluster, on copies of real ModSecurity 3.0.9
 * captures (test/fixtures/modsecurity/real-3.0.9): a JSON serial log, a
 * Native serial log and a concurrent-mode index with its transaction files
 * (under another directory than the index names: --storage-dir), in one
 * run; and a log with every kind of malformed record, each reported with
 * its file and line while the rest is shipped.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startBulkCluster } from '../support/bulk/index.ts';
import { makeDataDir, runCli } from '../support/keepwire-process.ts';

const REAL = new URL('../fixtures/modsecurity/real-3.0.9/', import.meta.url).pathname;

/** The unique ids of a JSON serial log. */
function jsonIds(path: string): string[] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line).transaction.unique_id);
}

function nativeIds(path: string): string[] {
  return [...readFileSync(path, 'utf8').matchAll(/^\[[^\]]+\] (\S+) /gm)].map((m) => m[1]!);
}

function indexIds(path: string): string[] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.split(' ').at(-4)!.split('-').at(-1)!);
}

test('serial JSON, serial Native and a concurrent index in one run: each transaction indexed once with its rules, client and status', async () => {
  const { cluster, urls, close } = await startBulkCluster();
  const dataDir = makeDataDir('kw-ship-modsec-');
  try {
    const inputs = [
      join(REAL, 'json-serial.log'),
      join(REAL, 'native-serial.log'),
      join(REAL, 'concurrent', 'index.log'),
    ];
    const result = await runCli([
      'ship',
      '--from',
      'modsecurity',
      ...inputs,
      '--storage-dir',
      join(REAL, 'concurrent'),
      '--sink',
      'opensearch',
      '--to',
      urls[0]!,
      '--index',
      'modsec-%Y.%m.%d',
      '--data-dir',
      dataDir,
      '--json',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    const expected = [
      ...jsonIds(inputs[0]!),
      ...nativeIds(inputs[1]!),
      ...indexIds(inputs[2]!),
    ].sort();
    assert.equal(expected.length, 24);
    assert.equal(summary.eventsRead, 24);
    assert.equal(summary.eventsDelivered, 24);
    assert.deepEqual(summary.malformed, []);
    const documents = [...cluster.documents()];
    assert.deepEqual(documents.map(([, id]) => id).sort(), expected, 'each transaction once');
    for (const [index, , source] of documents) {
      const event = source as {
        '@timestamp': string;
        source: { ip: string };
        rule?: { id: string[] };
        http: { response: { status_code: number } };
        event: { original: string };
      };
      assert.equal(index, `modsec-${event['@timestamp'].slice(0, 10).replaceAll('-', '.')}`);
      assert.match(event.source.ip, /^(127\.0\.0\.1|::1)$/);
      assert.ok([200, 403].includes(event.http.response.status_code));
      if (event.http.response.status_code === 403)
        assert.ok(event.rule!.id.includes('949110'), 'a blocked request carries the blocking rule');
      assert.ok(event.event.original.length > 100, 'the original record is kept');
    }
  } finally {
    await close();
  }
});

test('malformed records are reported with file and line, the rest shipped: truncated JSON, Native without Z, a missing transaction file, binary garbage', async () => {
  const { cluster, urls, close } = await startBulkCluster();
  const dir = makeDataDir('kw-ship-modsec-bad-');
  try {
    const json = readFileSync(join(REAL, 'json-serial.log'), 'utf8').trim().split('\n');
    const native = readFileSync(join(REAL, 'native-serial.log'), 'utf8');
    const [firstNative] = native.split(/(?=^---\w{8}---A--$)/m);
    const withoutZ = firstNative!.replace(/^---\w{8}---Z--\n/m, '');
    const serial = join(dir, 'serial.log');
    const lines = [
      json[0]!, // line 1
      json[1]!.slice(0, 200), // line 2: cut short
      withoutZ.trimEnd(), // from line 3: the next A boundary starts a new record
      firstNative!.trimEnd(),
      '\u0000\u0007\u00fe\u00ff binary',
      json[2]!,
    ];
    writeFileSync(serial, `${lines.join('\n')}\n`);
    const garbageLine = lines.slice(0, 4).join('\n').split('\n').length + 1;
    const index = join(dir, 'index.log');
    const indexLines = readFileSync(join(REAL, 'concurrent', 'index.log'), 'utf8')
      .trim()
      .split('\n');
    writeFileSync(index, `${indexLines.slice(0, 2).join('\n')}\n`);
    // Only the first transaction's file is there.
    const named = indexLines[0]!.split(' ').at(-4)!.split('/').slice(-3);
    const storage = join(dir, 'storage');
    mkdirSync(join(storage, named[0]!, named[1]!), { recursive: true });
    copyFileSync(join(REAL, 'concurrent', ...named), join(storage, ...named));
    const result = await runCli([
      'ship',
      '--from',
      'modsecurity',
      serial,
      index,
      '--storage-dir',
      storage,
      '--sink',
      'opensearch',
      '--to',
      urls[0]!,
    ]);
    assert.equal(result.code, 1, 'malformed records make exit 1');
    const reported = [...result.stderr.matchAll(/SHIP_RECORD_MALFORMED (\S+):(\d+): /g)].map(
      (m) => `${m[1]}:${m[2]}`,
    );
    assert.deepEqual(reported, [
      `${serial}:2`,
      `${serial}:3`,
      `${serial}:${garbageLine}`,
      `${index}:2`,
    ]);
    assert.match(result.stderr, /without its Z boundary/);
    assert.match(result.stderr, /cannot be read \(ENOENT\)/);
    assert.match(result.stderr, /4 indexed, 0 already present, 0 dead-lettered, 4 malformed/);
    assert.equal(
      cluster.documentCount,
      4,
      'JSON 1, the whole Native record, JSON 3, one indexed file',
    );
  } finally {
    await close();
  }
});
