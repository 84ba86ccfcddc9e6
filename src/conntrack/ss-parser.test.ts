import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptySkipCounts, type TcpSocket } from './socket.ts';
import { parseEndpoint, parseSsOutput } from './ss-parser.ts';
import { ssArguments } from './ss-reader.ts';

test('parses ss -tanHeo lines, with and without the State column', () => {
  const text = [
    'LISTEN    0      4096   127.0.0.1:4222    0.0.0.0:*     ino:6665 sk:1 cgroup:/ <->',
    'ESTAB     0      12     127.0.0.1:4369  127.0.0.1:47700 timer:(on,200ms,3) uid:106 ino:5893 sk:a cgroup:/ <->',
    'TIME-WAIT 0      0      [::1]:37452 [::1]:4369  timer:(timewait,43sec,0) ino:0 sk:1001',
    'CLOSE-WAIT 5     0      [::ffff:127.0.0.1]:80 [::ffff:10.1.2.3]:5000 uid:33 ino:99 sk:2',
    'not a socket line',
    'ESTAB 0 0 127.0.0.1:99999 1.2.3.4:1',
    '',
  ].join('\n');
  const out: TcpSocket[] = [];
  const skipped = emptySkipCounts();
  parseSsOutput(text, out, skipped);
  assert.equal(skipped.malformedLines, 2);
  assert.equal(out.length, 4);
  assert.equal(out[0]!.state, 'LISTEN');
  assert.equal(out[0]!.backlog, 4096);
  assert.equal(out[0]!.inode, 6665);
  assert.equal(out[1]!.state, 'ESTABLISHED');
  assert.equal(out[1]!.txQueue, 12);
  assert.equal(out[1]!.timer, 1);
  assert.equal(out[1]!.retransmits, 3);
  assert.equal(out[1]!.uid, 106);
  assert.equal(out[2]!.family, 6);
  assert.equal(out[2]!.localAddress, '::1');
  assert.equal(out[2]!.timer, 3);
  assert.equal(out[3]!.localAddress, '127.0.0.1');
  assert.equal(out[3]!.remoteAddress, '10.1.2.3');
  assert.equal(out[3]!.rxQueue, 5);

  const single: TcpSocket[] = [];
  parseSsOutput('0 0 127.0.0.1:8080 127.0.0.1:5000 ino:5\n', single, skipped, 'CLOSE_WAIT');
  assert.equal(single[0]!.state, 'CLOSE_WAIT');
  assert.equal(single[0]!.inode, 5);
});

test('endpoints: interface suffixes, wildcards, bad ports', () => {
  assert.deepEqual(parseEndpoint('127.0.0.53%lo:53'), {
    family: 4,
    address: '127.0.0.53',
    port: 53,
  });
  assert.deepEqual(parseEndpoint('*:*'), { family: 4, address: '0.0.0.0', port: 0 });
  assert.deepEqual(parseEndpoint('[::]:*'), { family: 6, address: '::', port: 0 });
  assert.equal(parseEndpoint('1.2.3.4:70000'), undefined);
  assert.equal(parseEndpoint('nocolon'), undefined);
});

test('state filters become ss arguments the kernel applies', () => {
  assert.deepEqual(ssArguments(), ['-tanHeo']);
  assert.deepEqual(ssArguments(['CLOSE_WAIT', 'LISTEN']), [
    '-tanHeo',
    'state',
    'close-wait',
    'state',
    'listening',
  ]);
});
