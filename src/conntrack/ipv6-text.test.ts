import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatIpv6 } from './ipv6-text.ts';

test('formatIpv6 follows RFC 5952', () => {
  const bytes = (hex: string) => hex.match(/../g)!.map((b) => Number.parseInt(b, 16));
  assert.equal(formatIpv6(bytes('00000000000000000000000000000001')), '::1');
  assert.equal(formatIpv6(bytes('00000000000000000000000000000000')), '::');
  assert.equal(formatIpv6(bytes('20010db8000000010000000000000001')), '2001:db8:0:1::1');
  assert.equal(formatIpv6(bytes('20010db8000000000001000000000001')), '2001:db8::1:0:0:1');
  assert.equal(formatIpv6(bytes('20010db8000100020003000400050006')), '2001:db8:1:2:3:4:5:6');
  assert.equal(formatIpv6(bytes('00000000000000000000ffff0a000001')), '10.0.0.1');
});
