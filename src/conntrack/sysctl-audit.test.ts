import assert from 'node:assert/strict';
import { release } from 'node:os';
import { test } from 'node:test';
import {
  AUDITED_SYSCTLS,
  auditSysctlValues,
  parseKernelVersion,
  type SysctlValues,
} from './sysctl-audit.ts';
import { auditSysctl } from './sysctl-reader.ts';

const DEFAULTS: SysctlValues = {
  'net.ipv4.tcp_tw_reuse': '2\n',
  'net.ipv4.tcp_fin_timeout': '60\n',
  'net.ipv4.tcp_max_tw_buckets': '262144\n',
  'net.ipv4.ip_local_port_range': '32768\t60999\n',
  'net.ipv4.tcp_keepalive_time': '7200\n',
  'net.ipv4.tcp_keepalive_intvl': '75\n',
  'net.ipv4.tcp_keepalive_probes': '9\n',
  'net.ipv4.tcp_syncookies': '1\n',
  'net.core.somaxconn': '4096\n',
  'net.ipv4.tcp_max_syn_backlog': '1024\n',
};

function check(kernel: string, values: SysctlValues, name: string) {
  const found = auditSysctlValues(kernel, values).checks.find((c) => c.name === name);
  assert.ok(found, name);
  return found;
}

test('kernel versions parse from os.release() strings', () => {
  assert.deepEqual(parseKernelVersion('6.8.0-45-generic'), [6, 8]);
  assert.deepEqual(parseKernelVersion('4.9.337'), [4, 9]);
  assert.deepEqual(parseKernelVersion('weird'), [0, 0]);
});

test('a modern kernel with defaults: everything ok, tcp_tw_recycle absent', () => {
  const audit = auditSysctlValues('6.8.0-45-generic', DEFAULTS);
  assert.equal(audit.kernel, '6.8.0-45-generic');
  assert.equal(audit.checks.length, AUDITED_SYSCTLS.length);
  for (const c of audit.checks) {
    assert.match(c.reference, /ip-sysctl\.rst/);
    if (c.name === 'net.ipv4.tcp_tw_recycle') {
      assert.equal(c.status, 'absent');
      assert.equal(c.value, null);
      assert.match(c.meaning, /Removed in Linux 4\.12/);
    } else assert.equal(c.status, 'ok', `${c.name}: ${c.advice}`);
  }
  assert.deepEqual(check('6.8.0', DEFAULTS, 'net.ipv4.ip_local_port_range').value, [32768, 60999]);
});

test('tcp_tw_recycle: critical when on before 4.12, ok when off', () => {
  const on = check(
    '4.9.0',
    { ...DEFAULTS, 'net.ipv4.tcp_tw_recycle': '1' },
    'net.ipv4.tcp_tw_recycle',
  );
  assert.equal(on.status, 'critical');
  assert.match(on.meaning, /NAT/);
  assert.match(on.advice, /tcp_tw_recycle=0/);
  assert.equal(
    check('3.10.0-1160.el7', { 'net.ipv4.tcp_tw_recycle': '0' }, 'net.ipv4.tcp_tw_recycle').status,
    'ok',
  );
  const gone = check('4.12.0', {}, 'net.ipv4.tcp_tw_recycle');
  assert.equal(gone.status, 'absent');
  assert.match(gone.advice, /sysctl\.conf/);
});

test('tcp_tw_reuse: 0/1/2 meanings depend on the kernel', () => {
  const modern = check('5.15.0', { 'net.ipv4.tcp_tw_reuse': '2' }, 'net.ipv4.tcp_tw_reuse');
  assert.equal(modern.status, 'ok');
  assert.match(modern.meaning, /2 loopback only/);
  const old = check('4.14.0', { 'net.ipv4.tcp_tw_reuse': '2' }, 'net.ipv4.tcp_tw_reuse');
  assert.equal(old.status, 'warn');
  assert.match(old.advice, /not defined/);
  assert.equal(
    check('4.14.0', { 'net.ipv4.tcp_tw_reuse': '1' }, 'net.ipv4.tcp_tw_reuse').status,
    'ok',
  );
  assert.equal(
    check('6.1.0', { 'net.ipv4.tcp_tw_reuse': '7' }, 'net.ipv4.tcp_tw_reuse').status,
    'warn',
  );
  assert.match(
    check('6.1.0', { 'net.ipv4.tcp_tw_reuse': '0' }, 'net.ipv4.tcp_tw_reuse').meaning,
    /Outgoing connections only/,
  );
});

test('tcp_fin_timeout governs FIN_WAIT2 orphans, never CLOSE_WAIT or TIME_WAIT', () => {
  const ok = check('6.1.0', { 'net.ipv4.tcp_fin_timeout': '60' }, 'net.ipv4.tcp_fin_timeout');
  assert.equal(ok.status, 'ok');
  assert.match(ok.meaning, /FIN_WAIT2/);
  assert.match(ok.meaning, /does NOT touch CLOSE_WAIT/);
  assert.match(ok.meaning, /does NOT shorten TIME_WAIT/);
  assert.equal(
    check('6.1.0', { 'net.ipv4.tcp_fin_timeout': '1' }, 'net.ipv4.tcp_fin_timeout').status,
    'warn',
  );
  assert.equal(
    check('6.1.0', { 'net.ipv4.tcp_fin_timeout': '600' }, 'net.ipv4.tcp_fin_timeout').status,
    'warn',
  );
});

test('risky values warn with what to change', () => {
  const cases: [string, string, RegExp][] = [
    ['net.ipv4.ip_local_port_range', '60000 61000', /Widen/],
    ['net.ipv4.ip_local_port_range', '500 65535', /privileged/],
    ['net.ipv4.tcp_max_tw_buckets', '1000', /Raise/],
    ['net.ipv4.tcp_syncookies', '0', /tcp_syncookies=1/],
    ['net.ipv4.tcp_syncookies', '2', /testing/],
    ['net.core.somaxconn', '128', /4096/],
    ['net.ipv4.tcp_max_syn_backlog', '64', /1024/],
    ['net.ipv4.tcp_keepalive_time', '86400', /600/],
    ['net.ipv4.tcp_keepalive_intvl', '1000', /75/],
    ['net.ipv4.tcp_keepalive_probes', '100', /3 to 9/],
  ];
  for (const [name, value, advice] of cases) {
    const c = check('6.1.0', { ...DEFAULTS, [name]: value }, name);
    assert.equal(c.status, 'warn', `${name}=${value}`);
    assert.match(c.advice, advice, `${name}=${value}`);
  }
  assert.match(check('5.3.0', DEFAULTS, 'net.core.somaxconn').meaning, /128 on this kernel/);
  assert.match(check('5.4.0', DEFAULTS, 'net.core.somaxconn').meaning, /4096 on this kernel/);
});

test('unreadable values are absent, not errors', () => {
  const audit = auditSysctlValues('6.1.0', { 'net.core.somaxconn': 'garbage' });
  for (const c of audit.checks) assert.equal(c.status, 'absent', c.name);
});

test('the real /proc/sys of this host audits cleanly', async () => {
  const audit = await auditSysctl();
  assert.equal(audit.kernel, release());
  assert.equal(audit.checks.length, AUDITED_SYSCTLS.length);
  const finTimeout = audit.checks.find((c) => c.name === 'net.ipv4.tcp_fin_timeout')!;
  assert.equal(typeof finTimeout.value, 'number');
  assert.notEqual(finTimeout.status, 'absent');
  const range = audit.checks.find((c) => c.name === 'net.ipv4.ip_local_port_range')!;
  assert.ok(Array.isArray(range.value) && range.value.length === 2);
  assert.deepEqual(JSON.parse(JSON.stringify(audit)), audit);
});
