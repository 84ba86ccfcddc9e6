import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateToken, hashToken, isTokenMatch, parseBearer } from './token.ts';

test('tokens are random, hashed and matched', () => {
  const a = generateToken();
  const b = generateToken();
  assert.notEqual(a, b);
  assert.match(a, /^kw_[A-Za-z0-9_-]{43}$/);
  const hash = hashToken(a);
  assert.match(hash, /^[0-9a-f]{64}$/);
  assert.ok(isTokenMatch(a, hash));
  assert.ok(!isTokenMatch(b, hash));
  assert.ok(!isTokenMatch(a, 'not-hex'));
});

test('bearer headers', () => {
  assert.equal(parseBearer('Bearer abc'), 'abc');
  assert.equal(parseBearer('bearer   abc '), 'abc');
  assert.equal(parseBearer('Basic abc'), undefined);
  assert.equal(parseBearer(undefined), undefined);
  assert.equal(parseBearer('Bearer a b'), undefined);
});
