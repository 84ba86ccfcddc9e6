import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkIndexTemplate, IndexTemplate } from './index-template.ts';

test('renders the date tokens in UTC order, with literal text and %%', () => {
  const wazuh = new IndexTemplate('wazuh-alerts-4.x-%Y.%m.%d');
  assert.equal(wazuh.render(2024, 5, 6, 13), 'wazuh-alerts-4.x-2024.05.06');
  assert.equal(wazuh.isConstant, false);
  assert.equal(wazuh.usesHour, false);
  const hourly = new IndexTemplate('logs-%Y%m%d-%H-100%%');
  assert.equal(hourly.render(999, 12, 31, 7), 'logs-09991231-07-100%');
  assert.equal(hourly.usesHour, true);
  const constant = new IndexTemplate('modsecurity-ymd-y');
  assert.equal(constant.isConstant, true);
  assert.equal(constant.render(2024, 1, 1, 0), 'modsecurity-ymd-y');
});

test('templates that cannot name an index are refused with the reason', () => {
  assert.match(checkIndexTemplate('logs-%y')!, /"%y" is not a date token/);
  assert.match(checkIndexTemplate('logs-%')!, /"%" is not a date token/);
  assert.match(checkIndexTemplate('Logs-%Y')!, /lowercase/);
  assert.match(checkIndexTemplate('logs %Y')!, /cannot hold " "/);
  assert.match(checkIndexTemplate('logs/%Y')!, /cannot hold "\/"/);
  assert.match(checkIndexTemplate('_logs')!, /cannot start/);
  assert.match(checkIndexTemplate('')!, /cannot be empty/);
  assert.match(checkIndexTemplate('x'.repeat(256))!, /255 bytes/);
  assert.equal(checkIndexTemplate('.ds-logs-%Y.%m.%d'), undefined);
  assert.throws(() => new IndexTemplate('a-%q'), TypeError);
});
