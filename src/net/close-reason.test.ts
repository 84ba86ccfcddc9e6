import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyClose } from './close-reason.ts';

const open = { requests: 3, maxUses: 0, isShuttingDown: false };
const failure = (code: string, message: string) => Object.assign(new Error(message), { code });

test('why a pooled socket closed, from what undici reports', () => {
  const cases: [unknown, string][] = [
    [failure('UND_ERR_INFO', 'socket idle timeout'), 'idle_timeout'],
    [failure('UND_ERR_INFO', 'reset'), 'peer_closed'],
    [failure('UND_ERR_SOCKET', 'other side closed'), 'peer_closed'],
    [failure('UND_ERR_SOCKET', 'closed'), 'peer_closed'],
    // The peer's RST reaches undici as the socket's own error.
    [failure('ECONNRESET', 'read ECONNRESET'), 'peer_closed'],
    [failure('EPIPE', 'write EPIPE'), 'peer_closed'],
    [failure('UND_ERR_DESTROYED', 'destroyed'), 'shutdown'],
    [failure('UND_ERR_HEADERS_TIMEOUT', 'Headers Timeout Error'), 'error'],
    [failure('HPE_INVALID_CONSTANT', 'Expected HTTP/'), 'error'],
    [null, 'error'],
  ];
  for (const [error, reason] of cases)
    assert.equal(classifyClose(open, error), reason, String(error));
  assert.equal(
    classifyClose({ ...open, maxUses: 3 }, failure('UND_ERR_INFO', 'reset')),
    'max_uses',
  );
  assert.equal(
    classifyClose({ ...open, isShuttingDown: true }, failure('ECONNRESET', 'x')),
    'shutdown',
  );
});
