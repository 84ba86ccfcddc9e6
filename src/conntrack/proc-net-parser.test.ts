import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProcNetParser } from './proc-net-parser.ts';
import { emptySkipCounts, type TcpSocket } from './socket.ts';

const HEADER =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const V6_HEADER =
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';

function parse(text: string, family: 4 | 6, mask?: Uint8Array) {
  const out: TcpSocket[] = [];
  const skipped = emptySkipCounts();
  new ProcNetParser({ littleEndian: true }).parse(text, family, out, skipped, mask);
  return { out, skipped };
}

test('parses IPv4 lines: addresses, ports, state, queues, timer, uid, inode', () => {
  const text =
    HEADER +
    '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000003 00:00000000 00000000     0        0 6665 1 000000007220c561 100 0 0 10 0\n' +
    '   1: 0100007F:C350 0100007F:1F90 08 0000000A:00000000 02:000AFC7F 00000002  1000        0 123456 1 0000000000000000 20 4 30 10 -1\n' +
    ' 12345: 0A00000A:0050 6401A8C0:D431 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000\n';
  const { out, skipped } = parse(text, 4);
  assert.equal(skipped.malformedLines, 0);
  assert.equal(out.length, 3);
  assert.deepEqual(out[0], {
    family: 4,
    state: 'LISTEN',
    localAddress: '127.0.0.1',
    localPort: 8080,
    remoteAddress: '0.0.0.0',
    remotePort: 0,
    txQueue: 0,
    rxQueue: 3,
    timer: 0,
    retransmits: 0,
    uid: 0,
    inode: 6665,
  });
  assert.equal(out[1]!.state, 'CLOSE_WAIT');
  assert.equal(out[1]!.localPort, 50000);
  assert.equal(out[1]!.txQueue, 10);
  assert.equal(out[1]!.timer, 2);
  assert.equal(out[1]!.retransmits, 2);
  assert.equal(out[1]!.uid, 1000);
  assert.equal(out[1]!.inode, 123456);
  // Wide "sl" numbers shift the columns; TIME_WAIT lines carry inode 0.
  assert.equal(out[2]!.state, 'TIME_WAIT');
  assert.equal(out[2]!.localAddress, '10.0.0.10');
  assert.equal(out[2]!.remoteAddress, '192.168.1.100');
  assert.equal(out[2]!.remotePort, 54321);
  assert.equal(out[2]!.inode, 0);
});

test('parses IPv6 lines and decodes IPv4-mapped addresses to IPv4', () => {
  const text =
    V6_HEADER +
    '   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5810 1 00000000f764fa9f 100 0 0 10 0\n' +
    '   1: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 20 4 30 10 -1\n' +
    '   2: B80D0120000000000000000001000000:01BB 000080FE0000000000FEFF0203000000:E290 01 00000000:00000000 00:00000000 00000000     0        0 778 1 0000000000000000 20 4 30 10 -1\n';
  const { out, skipped } = parse(text, 6);
  assert.equal(skipped.malformedLines, 0);
  assert.equal(out[0]!.localAddress, '::1');
  assert.equal(out[0]!.remoteAddress, '::');
  assert.equal(out[0]!.family, 6);
  assert.equal(out[1]!.localAddress, '127.0.0.1');
  assert.equal(out[1]!.remotePort, 50000);
  assert.equal(out[2]!.localAddress, '2001:db8::1');
  assert.equal(out[2]!.remoteAddress, 'fe80::2ff:fe00:0:3');
});

test('malformed lines are skipped and counted, never thrown', () => {
  const good =
    '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 6665 1 0 100 0 0 10 0\n';
  const text =
    HEADER +
    good +
    'garbage\n' +
    '   1: 0100007F:1F90 00000000:0000 0X 00000000:00000000 00:00000000 00000000     0        0 1\n' + // bad state
    '   2: 0100007F:1F90 00000000:0000 0C 00000000:00000000 00:00000000 00000000     0        0 1\n' + // state 12
    '   3: 0100007Z:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1\n' + // bad hex
    '   4: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000\n' + // truncated
    '   5: 0100007F:1F90\n' +
    '   6: 0100007F:1F90 00000000:0000 0A 0000000G:00000000 00:00000000 00000000     0        0 1\n' +
    good;
  const { out, skipped } = parse(text, 4);
  assert.equal(out.length, 2);
  assert.equal(skipped.malformedLines, 7);
  // A header-only or empty file is zero sockets, not an error.
  assert.equal(parse(HEADER, 4).out.length, 0);
  assert.equal(parse('', 4).out.length, 0);
  // A v4 line in the v6 file does not parse.
  assert.equal(parse(V6_HEADER + good, 6).skipped.malformedLines, 1);
});

test('the state mask filters before decoding', () => {
  const text =
    HEADER +
    '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n' +
    '   1: 0100007F:C350 0100007F:1F90 08 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0\n';
  const mask = new Uint8Array(12);
  mask[8] = 1; // CLOSE_WAIT
  const { out } = parse(text, 4, mask);
  assert.deepEqual(
    out.map((s) => s.inode),
    [2],
  );
});
