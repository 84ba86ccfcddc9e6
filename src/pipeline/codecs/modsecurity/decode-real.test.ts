import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  concurrentFiles,
  fixturePath,
  jsonRecords,
  nativeRecords,
} from '../../../../test/support/modsecurity-fixtures.ts';
import { decodeModsecurity, detectModsecurityFormat, type ModsecurityEvent } from './index.ts';

const realJson = jsonRecords('real-3.0.9/json-serial.log');
const realNative = nativeRecords('real-3.0.9/native-serial.log');
const realConcurrent = concurrentFiles(fixturePath('real-3.0.9/concurrent/20261123'));

/** Every record of the real captures, as its format and text. */
const everyRealRecord = [
  ...realJson.map((text) => ['json', text] as const),
  ...realNative.map((text) => ['native', text] as const),
  ...realConcurrent.map((path) => ['json', readFileSync(path, 'utf8')] as const),
];

test('every record of every real ModSecurity 3.0.9 capture decodes', () => {
  assert.equal(realJson.length, 8);
  assert.equal(realNative.length, 8);
  assert.equal(realConcurrent.length, 8);
  for (const [format, text] of everyRealRecord) {
    assert.equal(detectModsecurityFormat(text.slice(0, text.indexOf('\n'))), format);
    const event = decodeModsecurity(text);
    assert.equal(event.modsecurity.format, format);
    assert.equal(event.event.original, text, 'the original record is kept as it was');
    assert.match(event['@timestamp']!, /^2026-11-2[234]T\d\d:\d\d:\d\d\.000Z$/);
    assert.match(event.event.id!, /^\d+\.\d+$/);
    assert.ok(event.source?.ip === '127.0.0.1' || event.source?.ip === '::1');
    assert.ok(event.source!.port! > 0 && event.destination!.port! > 0);
    assert.ok([200, 403].includes(event.http!.response!.status_code!));
    assert.ok(event.rule!.id.length > 0, 'RelevantOnly logs only transactions some rule matched');
    assert.equal(event.modsecurity.messages.length > 0, true);
    const sentHost = event.url?.path === '/wp-login.php' ? 'shop.example' : event.source!.ip;
    assert.equal(event.host?.name, sentHost, 'the Host header, its port cut');
    assert.deepEqual(JSON.parse(JSON.stringify(event)), event, 'plain JSON data');
  }
});

test('a JSON record of ModSecurity 3.0.9 maps to ECS', () => {
  const event = decodeModsecurity(realJson[0]!, { localTimeZone: 'utc' });
  const { original, ...meta } = event.event;
  assert.equal(original, realJson[0]);
  assert.deepEqual(meta, {
    id: '179540874798.395940',
    module: 'modsecurity',
    dataset: 'modsecurity.audit',
    severity: 2,
  });
  assert.equal(event['@timestamp'], '2026-11-23T04:39:07.000Z');
  assert.deepEqual(event.source, { ip: '127.0.0.1', port: 48760 });
  assert.deepEqual(event.destination, { ip: '127.0.0.1', port: 54765 });
  assert.deepEqual(event.url, {
    original: '/products?id=1%27%20OR%201=1--',
    path: '/products',
    query: 'id=1%27%20OR%201=1--',
  });
  assert.equal(event.http?.version, '1.1', 'the number 1.1 becomes the string "1.1"');
  assert.equal(event.http?.request?.method, 'GET');
  assert.equal(event.http?.response?.status_code, 403);
  assert.equal(event.user_agent?.original, 'curl/7.88.1');
  assert.equal(event.host?.name, '127.0.0.1', 'no hostname in 3.0.9: the Host header, port cut');
  assert.deepEqual(event.rule?.id, ['920350', '942100', '949110']);
  assert.ok(event.tags?.includes('attack-protocol') && event.tags.includes('PCI/6.5.10'));
  assert.equal(event.modsecurity.producer, 'ModSecurity v3.0.9 (Linux)');
  assert.equal(event.modsecurity.connector, 'ModSecurity-nginx v1.0.3');
  assert.equal(event.modsecurity.engine_mode, 'Enabled');
  assert.deepEqual(event.modsecurity.components, ['OWASP_CRS/3.3.4']);
  assert.equal(event.modsecurity.is_interrupted, undefined, '3.0.9 does not write it');
  const sqli = event.modsecurity.messages[1]!;
  assert.equal(sqli.rule_id, '942100');
  assert.equal(sqli.message, 'SQL Injection Attack Detected via libinjection');
  assert.equal(sqli.data, "Matched Data: s&1c found within ARGS:id: 1' OR 1=1--");
  assert.equal(sqli.severity, '2');
  assert.equal(sqli.tags, undefined, '"tags": [] leaves no tags');
});

/** The fields both formats carry, minus what differs between two runs (ids, ports, times). */
function comparable(event: ModsecurityEvent) {
  return {
    source: event.source?.ip,
    destination: event.destination?.ip,
    http: event.http,
    url: event.url,
    user_agent: event.user_agent,
    host: event.host,
    rule: event.rule,
    tags: event.tags,
    severity: event.event.severity,
    messages: event.modsecurity.messages.map((m) => ({
      ...m,
      data: undefined,
      reference: undefined,
      match: m.match?.replace(/:\d+' \)/, "' )"),
    })),
  };
}

test('the JSON and native captures of the same requests give the same ECS fields', () => {
  const byUri = (events: ModsecurityEvent[]) =>
    events.sort((a, b) => (a.url!.original < b.url!.original ? -1 : 1));
  const json = byUri(realJson.map((text) => decodeModsecurity(text)));
  const native = byUri(realNative.map((text) => decodeModsecurity(text)));
  for (let i = 0; i < json.length; i++) {
    assert.deepEqual(comparable(native[i]!), comparable(json[i]!), json[i]!.url!.original);
  }
  const ipv6 = native.find((event) => event.source?.ip === '::1');
  assert.equal(ipv6?.host?.name, '::1', 'Host: [::1]:PORT gives ::1');
  const http10 = native.find((event) => event.url?.query === 'cmd=;cat%20/etc/passwd');
  assert.equal(http10?.http?.version, '1.0');
});

test('native section E: CR LF written as \\x0d\\x0a comes back as CR LF', () => {
  const event = decodeModsecurity(realNative[0]!);
  assert.match(event.http!.response!.body!.content, /^<html>\r\n<head>.*<\/html>\r\n$/s);
  assert.equal(event.modsecurity.response_headers?.Server, 'nginx/1.22.1');
});

test('the hand-written JSON and native records of the same transactions agree, time included', () => {
  const json = jsonRecords('audit-serial.jsonl').map((text) =>
    decodeModsecurity(text, { localTimeZone: 'utc' }),
  );
  const native = nativeRecords('audit-native.log').map((text) => decodeModsecurity(text));
  assert.equal(native.length, 2);
  for (let i = 0; i < native.length; i++) {
    const pick = (event: ModsecurityEvent) => ({
      timestamp: event['@timestamp'],
      id: event.event.id,
      severity: event.event.severity,
      source: event.source,
      destination: event.destination,
      method: event.http?.request?.method,
      version: event.http?.version,
      status: event.http?.response?.status_code,
      url: event.url,
      user_agent: event.user_agent,
      host: event.host,
      rule: event.rule,
    });
    assert.deepEqual(pick(native[i]!), pick(json[i]!));
  }
  assert.equal(native[0]!['@timestamp'], '2026-10-09T20:19:57.000Z');
  assert.equal(native[1]!.http?.request?.body?.content, json[1]!.http?.request?.body?.content);
});
