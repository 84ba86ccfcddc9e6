/**
 * deploy/: the systemd unit has the user, state directory, capabilities and
 * hardening docs/production.md promises (and `systemd-analyze verify` finds
 * nothing wrong in it where systemd is installed); the Dockerfile builds with
 * `npm ci`, runs as a non-root user with its state on a volume and a health
 * check on the admin listener, and its KEEPWIRE_ settings load.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const UNIT = readFileSync(join(ROOT, 'deploy/keepwire.service'), 'utf8');
const DOCKERFILE = readFileSync(join(ROOT, 'deploy/Dockerfile'), 'utf8');

/** The unit's [Service] keys: each key with every value it is given. */
function serviceKeys(unit: string): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  let section = '';
  for (const raw of unit.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    if (section !== 'Service') continue;
    const at = line.indexOf('=');
    const key = line.slice(0, at);
    keys.set(key, [...(keys.get(key) ?? []), line.slice(at + 1)]);
  }
  return keys;
}

test('the systemd unit: own user, state directory, the watcher capabilities, hardening', () => {
  const keys = serviceKeys(UNIT);
  const one = (key: string) => {
    const values = keys.get(key);
    assert.equal(values?.length, 1, `${key} set once`);
    return values[0]!;
  };
  assert.equal(one('User'), 'keepwire');
  assert.equal(one('StateDirectory'), 'keepwire');
  assert.ok(
    keys.get('Environment')?.includes('KEEPWIRE_DATA_DIR=/var/lib/keepwire'),
    'the data dir is the state directory',
  );
  assert.match(one('ExecStart'), /^\/\S+\/keepwire serve\b/);
  const caps = (key: string) => one(key).split(/\s+/).sort();
  assert.deepEqual(caps('AmbientCapabilities'), ['CAP_DAC_READ_SEARCH', 'CAP_SYS_PTRACE']);
  assert.deepEqual(caps('CapabilityBoundingSet'), ['CAP_DAC_READ_SEARCH', 'CAP_SYS_PTRACE']);
  for (const [key, value] of [
    ['NoNewPrivileges', 'yes'],
    ['ProtectSystem', 'strict'],
    ['ProtectHome', 'yes'],
    ['PrivateTmp', 'yes'],
  ]) {
    assert.equal(one(key!), value, key);
  }
  assert.match(one('RestrictAddressFamilies'), /\bAF_NETLINK\b/, 'the sock_diag dump');
  for (const key of ['ProtectProc', 'ProcSubset', 'PrivateNetwork', 'MemoryDenyWriteExecute']) {
    assert.equal(keys.get(key), undefined, `${key} would break the watcher or V8`);
  }
});

test('the systemd unit passes systemd-analyze verify', (t) => {
  const probe = spawnSync('systemd-analyze', ['--version']);
  if (probe.error) {
    t.skip('systemd-analyze is not installed here: only the unit parse above ran');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'kw-unit-'));
  try {
    // verify checks that ExecStart's program exists: point it at this checkout's.
    const unit = UNIT.replace(/^ExecStart=\S+/m, `ExecStart=${join(ROOT, 'bin/keepwire.js')}`);
    writeFileSync(join(dir, 'keepwire.service'), unit);
    const run = spawnSync('systemd-analyze', ['verify', join(dir, 'keepwire.service')], {
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(`${run.stdout}${run.stderr}`, '', 'no unknown key, no value it cannot parse');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the Dockerfile: npm ci, non-root, state volume, health check, settings that load', () => {
  const lines = DOCKERFILE.replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const instructions = (name: string) =>
    lines.filter((l) => l.startsWith(`${name} `)).map((l) => l.slice(name.length + 1).trim());
  assert.ok(instructions('RUN').some((r) => /\bnpm ci\b/.test(r) && !r.includes('--omit=dev')));
  assert.ok(instructions('RUN').some((r) => /\bnpm ci --omit=dev\b/.test(r)));
  assert.ok(instructions('FROM').length >= 2, 'multi-stage');
  assert.deepEqual(instructions('USER'), ['keepwire']);
  for (const copy of instructions('COPY').filter((c) => !c.startsWith('--from'))) {
    for (const source of copy.split(/\s+/).slice(0, -1)) {
      assert.ok(existsSync(join(ROOT, source)), `COPY ${source} exists in the project`);
    }
  }
  const env: Record<string, string> = {};
  for (const line of instructions('ENV')) {
    for (const [, key, value] of line.matchAll(/(\w+)=(\S+)/g)) env[key!] = value!;
  }
  assert.equal(env.KEEPWIRE_DATA_DIR, '/var/lib/keepwire');
  assert.deepEqual(instructions('VOLUME'), [`["${env.KEEPWIRE_DATA_DIR}"]`]);
  const config = loadConfig({ env });
  assert.equal(config.dataDir, '/var/lib/keepwire');
  assert.deepEqual(config.admin.listen, { host: '0.0.0.0', port: 8680 });
  const health = instructions('HEALTHCHECK')[0] ?? '';
  assert.match(health, new RegExp(`127\\.0\\.0\\.1:${config.admin.listen.port}/healthz`));
  assert.ok(
    instructions('EXPOSE')[0]?.split(/\s+/).includes(String(config.admin.listen.port)),
    'the admin port is exposed',
  );
});

test('LICENSE holds the license package.json names', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { license: string };
  assert.equal(pkg.license, 'Apache-2.0');
  const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
  assert.match(license, /Apache License\s+Version 2\.0, January 2004/);
  assert.match(license, /END OF TERMS AND CONDITIONS/);
});
