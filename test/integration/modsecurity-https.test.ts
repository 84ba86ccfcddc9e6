/**
 * A real ModSecurity (nginx + libmodsecurity3 3.0.9 + CRS) in HTTPS mode
 * (`SecAuditLogType HTTPS`, `SecAuditLog http://127.0.0.1:PORT/v1/modsecurity`)
 * posting to a real `keepwire serve` (http source -> disk buffer -> file
 * sink). Every transaction of the attack set arrives once, normalized, with
 * its rule ids, client address and status; no socket of serve is left in
 * CLOSE-WAIT, and the TIME-WAIT of each entry's connection sits on serve's
 * side, not on the web server's.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ModsecurityEvent } from '../../src/pipeline/codecs/modsecurity/index.ts';
import { closeWaitOwnedBy } from '../support/close-wait.ts';
import { startServe } from '../support/keepwire-process.ts';
import { ATTACKS, type ModsecurityMode, RealModsecurity } from '../support/modsecurity.ts';
import { nativeRecords } from '../support/modsecurity-fixtures.ts';
import { makeDataDir, startShipServe, waitFor, writeShipConfig } from '../support/ship-serve.ts';

const ROUNDS = 10;

function delivered(dataDir: string): ModsecurityEvent[] {
  const out = join(dataDir, 'out', 'events.ndjson');
  if (!existsSync(out)) return [];
  return readFileSync(out, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ModsecurityEvent);
}

/** TIME-WAIT sockets between 127.0.0.1:port and its peers: [on the listener's side, on the peers' side]. */
function timeWaits(port: number): [number, number] {
  // Filtered by the kernel: a busy host (another test's socket farm) can hold
  // more TIME-WAIT sockets than execFileSync's output buffer.
  const filter = `( sport = :${port} or dport = :${port} )`;
  const lines = execFileSync('ss', ['-tanH', 'state', 'time-wait', filter], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
    .split('\n')
    .filter(Boolean);
  const local = lines.filter((line) => line.split(/\s+/)[2] === `127.0.0.1:${port}`).length;
  const peer = lines.filter((line) => line.split(/\s+/)[3] === `127.0.0.1:${port}`).length;
  return [local, peer];
}

for (const mode of ['https', 'https-native'] satisfies ModsecurityMode[]) {
  test(`ModSecurity ${mode} -> keepwire serve: every transaction once, with rule ids, client and status`, async (t) => {
    const dataDir = makeDataDir('kw-modsec-https-');
    const config = writeShipConfig(dataDir, { type: 'file', path: 'out/events.ndjson' });
    const serve = await startShipServe(dataDir, config);
    const intake = `${serve.eventsUrl}/v1/modsecurity`;
    const modsecurity = await RealModsecurity.start({ mode, auditUrl: intake });
    try {
      const statuses = await modsecurity.sendAttacks(ROUNDS);
      assert.equal(statuses.length, ATTACKS.length * ROUNDS);
      const total = ATTACKS.length * ROUNDS;
      await waitFor(() => delivered(dataDir).length >= total, 30_000, `${total} events delivered`);
      const events = delivered(dataDir);
      assert.equal(events.length, total, 'each transaction once');
      assert.equal(new Set(events.map((event) => event.event.id)).size, total);
      for (const attack of ATTACKS) {
        const mine = events.filter((event) => event.url?.original === attack.uri);
        assert.equal(mine.length, ROUNDS, attack.uri);
        for (const event of mine) {
          assert.equal(event.source?.ip, attack.ipv6 ? '::1' : '127.0.0.1');
          assert.ok(event.source!.port! > 0);
          assert.equal(event.http?.response?.status_code, attack.status);
          assert.equal(event.user_agent?.original, attack.userAgent);
          for (const id of attack.ruleIds)
            assert.ok(event.rule?.id.includes(id), `${attack.uri} ${id}`);
          assert.equal(typeof event.event.original, 'string');
        }
      }
      t.diagnostic(`records posted as ${[...new Set(events.map((e) => e.modsecurity.format))]}`);
      const port = Number(new URL(intake).port);
      const [ours, theirs] = timeWaits(port);
      t.diagnostic(
        `TIME-WAIT after ${total} entries: ${ours} on serve's side, ${theirs} on nginx's`,
      );
      assert.equal(
        await serve.metric('keepwire_pipeline_events_rejected_total'),
        0,
        'no entry refused',
      );
      await modsecurity.stop();
      await waitFor(
        () => closeWaitOwnedBy(serve.pid).length === 0,
        5_000,
        `no CLOSE-WAIT of serve: ${closeWaitOwnedBy(serve.pid).join('\n')}`,
      );
    } finally {
      await modsecurity.dispose();
      assert.equal(await serve.stop(), 0);
    }
  });
}

test('the embedded default normalizes what arrives on /v1/modsecurity, native bodies too', async () => {
  const serve = await startServe();
  try {
    const address = readFileSync(join(serve.dataDir, 'events.addr'), 'utf8').trim();
    const [record] = nativeRecords('real-3.0.9/native-serial.log');
    const response = await fetch(`http://${address}/v1/modsecurity`, {
      method: 'POST',
      body: record,
      headers: { 'modsec-unique-id': '179540875055.219544', 'modsec-status': '0' },
    });
    assert.equal(response.status, 200);
    await waitFor(() => delivered(serve.dataDir).length === 1, 10_000, 'the file sink');
    const [event] = delivered(serve.dataDir);
    assert.equal(event!.event.id, '179540875055.219544');
    assert.equal(event!.modsecurity.format, 'native');
    assert.deepEqual(event!.rule?.id, ['920350', '942100', '949110']);
    assert.equal(event!.event.original, record);
  } finally {
    assert.equal(await serve.stop(), 0);
  }
});
