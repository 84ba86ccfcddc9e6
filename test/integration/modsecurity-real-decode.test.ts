/**
 * The decoder against what a real ModSecurity (nginx + libmodsecurity3 +
 * CRS) writes now, in JSON and native, serial and concurrent mode: every
 * transaction of the fixed attack set decodes, with its rule ids, client
 * address and status, and both formats give the same ECS fields for the
 * same requests.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  decodeModsecurity,
  type ModsecurityEvent,
} from '../../src/pipeline/codecs/modsecurity/index.ts';
import { ATTACKS, type ModsecurityMode, RealModsecurity } from '../support/modsecurity.ts';
import { concurrentFiles } from '../support/modsecurity-fixtures.ts';
import { waitFor } from '../support/ship-serve.ts';

type Reader = (modsecurity: RealModsecurity) => string[];

/** Serial mode: the log, cut into records. */
const serial =
  (split: (text: string) => string[]): Reader =>
  (modsecurity) =>
    split(readOr(modsecurity.auditLog));

/** Concurrent mode: every file the index names (one record each), once the index names them all. */
const concurrent: Reader = (modsecurity) => {
  const lines = readOr(modsecurity.auditLog).split('\n').filter(Boolean);
  if (lines.length < ATTACKS.length) return [];
  return concurrentFiles(modsecurity.storageDir).map((path) => readFileSync(path, 'utf8'));
};

async function capture(mode: ModsecurityMode, read: Reader) {
  const modsecurity = await RealModsecurity.start({ mode });
  try {
    const statuses = await modsecurity.sendAttacks();
    assert.deepEqual(
      statuses,
      ATTACKS.map((attack) => attack.status),
    );
    let records: string[] = [];
    await waitFor(
      () => {
        records = read(modsecurity);
        return records.length >= ATTACKS.length;
      },
      20_000,
      `${ATTACKS.length} audit records in ${mode}`,
    );
    return records.map((record) => decodeModsecurity(record));
  } finally {
    await modsecurity.dispose();
  }
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function checkAgainstAttacks(events: ModsecurityEvent[]): void {
  assert.equal(events.length, ATTACKS.length);
  for (const attack of ATTACKS) {
    const matching = events.filter((event) => event.url?.original === attack.uri);
    assert.equal(matching.length, 1, attack.uri);
    const [event] = matching;
    assert.equal(event!.source?.ip, attack.ipv6 ? '::1' : '127.0.0.1');
    assert.equal(event!.http?.response?.status_code, attack.status);
    assert.equal(event!.http?.request?.method, attack.method);
    assert.equal(event!.http?.version, attack.httpVersion);
    assert.equal(event!.user_agent?.original, attack.userAgent);
    for (const id of attack.ruleIds)
      assert.ok(event!.rule?.id.includes(id), `${attack.uri}: ${id}`);
  }
}

test('a real ModSecurity: every JSON and native serial record decodes to the same ECS fields', async () => {
  const json = await capture(
    'json-serial',
    serial((text) => text.split('\n').filter(Boolean)),
  );
  const native = await capture(
    'native-serial',
    serial((text) =>
      text.split(/(?=^---[0-9A-Za-z]+---A--$)/m).filter((record) => record.includes('---Z--')),
    ),
  );
  checkAgainstAttacks(json);
  checkAgainstAttacks(native);
  for (const event of json) {
    const twin = native.find((other) => other.url?.original === event.url?.original)!;
    assert.deepEqual(twin.rule, event.rule, event.url?.original);
    assert.deepEqual(twin.host, event.host);
    assert.equal(twin.event.severity, event.event.severity);
    assert.deepEqual(twin.http, event.http);
  }
});

test('a real ModSecurity: every file of JSON and native concurrent mode decodes', async () => {
  for (const mode of ['json-concurrent', 'native-concurrent'] as const) {
    const events = await capture(mode, concurrent);
    checkAgainstAttacks(events);
    const format = mode === 'json-concurrent' ? 'json' : 'native';
    assert.ok(
      events.every((event) => event.modsecurity.format === format),
      mode,
    );
  }
});
