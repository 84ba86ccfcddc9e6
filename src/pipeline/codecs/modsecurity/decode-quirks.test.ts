import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fixturePath, jsonRecords } from '../../../../test/support/modsecurity-fixtures.ts';
import { KeepwireError } from '../../../errors.ts';
import { decodeModsecurity, detectModsecurityFormat, ModsecurityRecordError } from './index.ts';

const handJson = jsonRecords('audit-serial.jsonl');
const realJson = jsonRecords('real-3.0.9/json-serial.log');
const handNative = readFileSync(fixturePath('audit-native.log'), 'utf8');
const firstNative = handNative.slice(0, handNative.indexOf('--c9e0f3a2-A--'));

test('http_version as a number or a string, newer fields present or absent', () => {
  const [withHostname, stringVersion, http2] = handJson.map((text) =>
    decodeModsecurity(text, { localTimeZone: 'utc' }),
  );
  assert.equal(withHostname!.http?.version, '1.1');
  assert.equal(withHostname!.host?.name, 'shop.example', 'request.hostname');
  assert.equal(withHostname!.modsecurity.is_interrupted, true);
  assert.equal(stringVersion!.http?.version, '1.1', '"1.1" stays "1.1"');
  assert.equal(stringVersion!.modsecurity.is_interrupted, undefined);
  assert.equal(stringVersion!.host?.name, 'blog.example', 'no hostname: the Host header');
  assert.equal(http2!.http?.version, '2.0', 'the number 2.0 (parsed as 2) becomes "2.0"');
  assert.equal(http2!.modsecurity.is_interrupted, false);
  assert.equal(http2!.rule, undefined, 'no messages: no rule ids');
  assert.equal(http2!.modsecurity.engine_mode, 'DetectionOnly');
});

test('header names in any case (HTTP/2 writes them in lower case), IPv6 addresses', () => {
  const http2 = decodeModsecurity(handJson[2]!);
  assert.equal(http2.user_agent?.original, 'curl/8.5.0');
  assert.deepEqual(http2.source, { ip: '2001:db8::5', port: 60001 });
  assert.deepEqual(http2.destination, { ip: '2001:db8::1', port: 443 });
  const shouting = JSON.parse(realJson[0]!);
  shouting.transaction.request.headers = { HOST: 'Shop.Example:8443', 'USER-AGENT': 'x/1' };
  const event = decodeModsecurity(JSON.stringify(shouting));
  assert.equal(event.user_agent?.original, 'x/1');
  assert.equal(event.host?.name, 'Shop.Example');
});

test('%c stamps: two spaces before a one-digit day, in the local zone or in UTC', () => {
  const [record] = handJson;
  assert.match(record!, /"Fri Oct {2}9 20:19:57 2026"/);
  assert.equal(
    decodeModsecurity(record!, { localTimeZone: 'utc' })['@timestamp'],
    '2026-10-09T20:19:57.000Z',
  );
  const previous = process.env.TZ;
  process.env.TZ = 'Asia/Kolkata';
  try {
    const local = decodeModsecurity(record!.replace('20:19:57', '20:19:58'));
    assert.equal(local['@timestamp'], '2026-10-09T14:49:58.000Z', 'UTC+05:30 taken off');
  } finally {
    if (previous === undefined) delete process.env.TZ;
    else process.env.TZ = previous;
  }
});

test('native: v2 boundaries, an offset in section A, a request body, no response body', () => {
  const event = decodeModsecurity(firstNative.replace('+0000]', '-0130]'));
  assert.equal(event['@timestamp'], '2026-10-09T21:49:57.000Z');
  assert.equal(event.event.id, '179156999755.849453');
  assert.deepEqual(event.rule?.id, ['942100', '949110']);
  assert.equal(event.event.severity, 0, 'the most severe of "2" and "0"');
  assert.equal(event.http?.response?.status_code, 403);
  const post = decodeModsecurity(handNative.slice(handNative.indexOf('--c9e0f3a2-A--')));
  assert.equal(
    post.http?.request?.body?.content,
    'log=admin&pwd=%3Cscript%3Ealert(1)%3C%2Fscript%3E',
  );
  assert.equal(post.http?.request?.method, 'POST');
});

test('native: CR LF line ends, empty sections, and a v2 trailer with producer and engine mode', () => {
  const v2 = [
    '--0a1b2c3d-A--',
    '[10/Oct/2026:08:02:11.123456 +0200] YyZ9aX8AAQEAAB1kAAAAAA 10.0.0.9 51000 10.0.0.1 80',
    '--0a1b2c3d-B--',
    'GET /a/b?x=1 HTTP/1.0',
    'user-agent: Nikto',
    '',
    '--0a1b2c3d-D--',
    '',
    '--0a1b2c3d-F--',
    'HTTP/1.1 403 Forbidden',
    '',
    '--0a1b2c3d-H--',
    'Message: Access denied with code 403 (phase 2). Pattern match "nikto" at REQUEST_HEADERS:User-Agent. [file "/etc/crs/913.conf"] [line "34"] [id "913100"] [msg "Scanner"] [data "quote \\" and ] inside"] [severity "CRITICAL"] [tag "attack-reputation-scanner"]',
    'Action: Intercepted (phase 2)',
    'Producer: ModSecurity for Apache/2.9.7 (http://www.modsecurity.org/); OWASP_CRS/3.3.5.',
    'Server: Apache',
    'Engine-Mode: "ENABLED"',
    '',
    '--0a1b2c3d-Z--',
    '',
  ].join('\r\n');
  const event = decodeModsecurity(v2);
  assert.equal(event['@timestamp'], '2026-10-10T06:02:11.123Z');
  assert.equal(event.http?.version, '1.0');
  assert.equal(event.http?.response?.status_code, 403);
  assert.deepEqual(event.url, { original: '/a/b?x=1', path: '/a/b', query: 'x=1' });
  assert.equal(event.user_agent?.original, 'Nikto');
  assert.equal(event.event.severity, 2, 'CRITICAL');
  assert.equal(
    event.modsecurity.producer,
    'ModSecurity for Apache/2.9.7 (http://www.modsecurity.org/)',
  );
  assert.deepEqual(event.modsecurity.components, ['OWASP_CRS/3.3.5']);
  assert.equal(event.modsecurity.engine_mode, 'ENABLED');
  const [message] = event.modsecurity.messages;
  assert.equal(message?.match, 'Pattern match "nikto" at REQUEST_HEADERS:User-Agent.');
  assert.equal(message?.data, 'quote \\" and ] inside');
  assert.deepEqual(message?.tags, ['attack-reputation-scanner']);
});

test('detectModsecurityFormat tells JSON, native and neither apart', () => {
  assert.equal(detectModsecurityFormat('  {"transaction":{}}'), 'json');
  assert.equal(detectModsecurityFormat('---5cmpJKxk---A--'), 'native');
  assert.equal(detectModsecurityFormat('--b5d2a1c7-A--\r'), 'native');
  assert.equal(detectModsecurityFormat('--b5d2a1c7-B--'), undefined, 'only A starts a record');
  assert.equal(detectModsecurityFormat('127.0.0.1 - - [x] "GET /"'), undefined);
});

function assertMalformed(record: string, pattern: RegExp): void {
  assert.throws(
    () => decodeModsecurity(record),
    (error: unknown) => {
      assert.ok(error instanceof ModsecurityRecordError);
      assert.ok(error instanceof KeepwireError);
      assert.equal(error.code, 'SHIP_RECORD_MALFORMED');
      assert.equal(error.status, 400);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

test('malformed records throw SHIP_RECORD_MALFORMED saying what is wrong', () => {
  assertMalformed('', /empty/);
  assertMalformed(' \n\n', /empty/);
  assertMalformed(realJson[0]!.slice(0, 500), /truncated/);
  assertMalformed('{"transaction": 5}', /no "transaction" object/);
  assertMalformed('[1,2]', /neither JSON/);
  assertMalformed('{"a":1', /truncated/);
  assertMalformed(firstNative.slice(0, firstNative.indexOf('--b5d2a1c7-Z--')), /no Z boundary/);
  assertMalformed(firstNative.replace(/^\[.*$/m, 'garbage'), /section A/);
  assertMalformed(`${firstNative}trailing text\n`, /after its Z boundary/);
  assertMalformed('--b5d2a1c7-B--\nGET / HTTP/1.1\n--b5d2a1c7-Z--\n', /neither JSON/);
  assertMalformed(`--b5d2a1c7-A--\n\u0000\u0001\n--b5d2a1c7-Z--\n`, /binary/);
  const seeded = Buffer.from(Array.from({ length: 64 }, (_v, i) => (i * 151 + 7) % 256));
  assertMalformed(seeded.toString('latin1'), /binary/);
});

test('a boundary of another record inside a section is body text, not the end', () => {
  const other = firstNative.replace(
    'Accept: */*\n',
    'Accept: */*\nX-Note: see below\n\n--ffffffff-Z--\n',
  );
  const event = decodeModsecurity(other);
  assert.deepEqual(event.rule?.id, ['942100', '949110']);
});

test('ModSecurity 2 JSON: transaction, request, response and audit_data side by side', () => {
  // The shape mod_security 2.9 writes with SecAuditLogFormat JSON (hand-written).
  const record = JSON.stringify({
    transaction: {
      time: '10/Oct/2026:08:02:11.500000 +0000',
      transaction_id: 'YyZ9aX8AAQEAAB1kAAAAAA',
      remote_address: '198.51.100.23',
      remote_port: 51822,
      local_address: '192.0.2.1',
      local_port: 443,
    },
    request: {
      request_line: 'GET /?q=1 HTTP/1.1',
      headers: { Host: 'blog.example', 'User-Agent': 'x' },
    },
    response: { protocol: 'HTTP/1.1', status: 403, headers: {} },
    audit_data: {
      messages: [
        'Warning. Pattern match "x" at ARGS:q. [file "/crs/941.conf"] [line "55"] [id "941100"] [msg "XSS"] [severity "CRITICAL"] [tag "attack-xss"] [hostname "192.0.2.1"]',
      ],
      producer: ['ModSecurity for Apache/2.9.7 (http://www.modsecurity.org/)', 'OWASP_CRS/3.3.5'],
      server: 'Apache',
      engine_mode: 'ENABLED',
    },
  });
  const event = decodeModsecurity(record);
  assert.equal(event['@timestamp'], '2026-10-10T08:02:11.500Z');
  assert.equal(event.event.id, 'YyZ9aX8AAQEAAB1kAAAAAA');
  assert.deepEqual(event.source, { ip: '198.51.100.23', port: 51822 });
  assert.deepEqual(event.url, { original: '/?q=1', path: '/', query: 'q=1' });
  assert.equal(event.http?.response?.status_code, 403);
  assert.equal(event.host?.name, 'blog.example');
  assert.deepEqual(event.rule?.id, ['941100']);
  assert.deepEqual(event.modsecurity.components, ['OWASP_CRS/3.3.5']);
  assert.equal(event.modsecurity.engine_mode, 'ENABLED');
});

test('url: an absolute request target, no query, an empty query', () => {
  const record = JSON.parse(realJson[0]!);
  const urlOf = (uri: string) => {
    record.transaction.request.uri = uri;
    return decodeModsecurity(JSON.stringify(record)).url;
  };
  assert.deepEqual(urlOf('http://shop.example:8080/a/b?c=1'), {
    original: 'http://shop.example:8080/a/b?c=1',
    path: '/a/b',
    query: 'c=1',
  });
  assert.deepEqual(urlOf('http://shop.example'), { original: 'http://shop.example', path: '/' });
  assert.deepEqual(urlOf('/only/path'), { original: '/only/path', path: '/only/path' });
  assert.deepEqual(urlOf('/x?'), { original: '/x?', path: '/x', query: '' });
  assert.equal(urlOf(''), undefined);
});
