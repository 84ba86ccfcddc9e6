import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32c } from './crc32c.ts';

test('crc32c matches the published check values', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(0)), 0);
  // RFC 3720 (iSCSI) B.4 test vectors.
  assert.equal(crc32c(Buffer.alloc(32, 0)), 0x8a9136aa);
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  const ascending = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
  assert.equal(crc32c(ascending), 0x46dd794e);
  assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i))), 0x113fdb5c);
});

test('crc32c over a range and continued across chunks equals the whole', () => {
  const bytes = Buffer.from('The quick brown fox jumps over the lazy dog, twice over.');
  const whole = crc32c(bytes);
  for (const split of [0, 1, 7, 8, 9, 30, bytes.length]) {
    assert.equal(crc32c(bytes, split, bytes.length, crc32c(bytes, 0, split)), whole);
  }
  const framed = Buffer.concat([Buffer.from('xx'), bytes, Buffer.from('yy')]);
  assert.equal(crc32c(framed, 2, 2 + bytes.length), whole);
});

test('crc32c agrees with the bit-by-bit definition on every length and offset mix', () => {
  const bitwise = (bytes: Uint8Array): number => {
    let crc = 0xffffffff;
    for (const byte of bytes) {
      crc ^= byte;
      for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
    }
    return ~crc >>> 0;
  };
  const data = Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 7919 + 13) & 0xff));
  for (let length = 0; length <= 70; length++) {
    for (const offset of [0, 1, 3, 17]) {
      const slice = data.subarray(offset, offset + length);
      assert.equal(crc32c(data, offset, offset + length), bitwise(slice));
    }
  }
  assert.equal(crc32c(data, 5, 600), bitwise(data.subarray(5)));
});
