import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from './backoff.ts';
import { type SseEvent, SseParser } from './sse-parser.ts';

test('sse parser: events split across chunks, comments skipped', () => {
  const events: SseEvent[] = [];
  const parser = new SseParser((e) => events.push(e));
  parser.push(': connected\nretry: 2000\n\nid: a\nevent: com');
  parser.push('mand\ndata: {"x":1}\n\n: heartbeat\n\nid: b\ndata: 2\n');
  assert.deepEqual(events, [{ id: 'a', event: 'command', data: '{"x":1}' }]);
  parser.push('\n');
  assert.deepEqual(events[1], { id: 'b', event: 'message', data: '2' });
});

test('sse parser: LF, CR LF and lone CR line ends, cut at every byte', () => {
  const stream =
    ': connected\nretry: 2000\n\nid: a\nevent: command\ndata: {"x":1}\n\n: heartbeat\n\nid: b\ndata: 2\ndata: 3\n\n';
  const expected = [
    { id: 'a', event: 'command', data: '{"x":1}' },
    { id: 'b', event: 'message', data: '2\n3' },
  ];
  for (const end of ['\n', '\r\n', '\r']) {
    const text = stream.replaceAll('\n', end);
    for (let cut = 0; cut <= text.length; cut++) {
      const events: SseEvent[] = [];
      const parser = new SseParser((e) => events.push(e));
      parser.push(text.slice(0, cut));
      parser.push(text.slice(cut));
      assert.deepEqual(events, expected, `${JSON.stringify(end)} cut at ${cut}`);
    }
  }
});

test('backoff: full jitter under a doubling, capped ceiling; reset', () => {
  const backoff = new Backoff({ baseMs: 100, capMs: 1000, random: () => 0.999 });
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map(() => backoff.next()),
    [99, 199, 399, 799, 999, 999],
  );
  backoff.reset();
  assert.equal(backoff.next(), 99);
  assert.equal(new Backoff({ random: () => 0 }).next(), 0);
});
