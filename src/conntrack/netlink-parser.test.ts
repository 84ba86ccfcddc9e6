import assert from 'node:assert/strict';
import { endianness } from 'node:os';
import { test } from 'node:test';
import { NetlinkDumpParser } from './netlink-parser.ts';
import { emptySkipCounts, type TcpSocket } from './socket.ts';

const LE = endianness() === 'LE';

/** One netlink message: header (host order) + payload, padded to 4 bytes. */
function message(type: number, payload: Buffer): Buffer {
  const length = 16 + payload.length;
  const bytes = Buffer.alloc((length + 3) & ~3);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  view.setUint32(0, length, LE);
  view.setUint16(4, type, LE);
  view.setUint16(6, 2, LE); // NLM_F_MULTI
  view.setUint32(8, 123_456, LE);
  payload.copy(bytes, 16);
  return bytes;
}

function int32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  new DataView(bytes.buffer, bytes.byteOffset, 4).setInt32(0, value, LE);
  return bytes;
}

const DONE = message(3, int32(0));

interface DiagFields {
  family: 2 | 10;
  state: number;
  timer?: number;
  retrans?: number;
  sport: number;
  dport: number;
  src: number[];
  dst: number[];
  rqueue?: number;
  wqueue?: number;
  uid?: number;
  inode?: number;
}

/** A SOCK_DIAG_BY_FAMILY message with one trailing attribute, as the kernel sends. */
function socketMessage(f: DiagFields): Buffer {
  const payload = Buffer.alloc(72 + 8);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
  payload[0] = f.family;
  payload[1] = f.state;
  payload[2] = f.timer ?? 0;
  payload[3] = f.retrans ?? 0;
  payload.writeUInt16BE(f.sport, 4);
  payload.writeUInt16BE(f.dport, 6);
  Buffer.from(f.src).copy(payload, 8);
  Buffer.from(f.dst).copy(payload, 24);
  view.setUint32(56, f.rqueue ?? 0, LE);
  view.setUint32(60, f.wqueue ?? 0, LE);
  view.setUint32(64, f.uid ?? 0, LE);
  view.setUint32(68, f.inode ?? 0, LE);
  view.setUint16(72, 8, LE); // rtattr INET_DIAG_MARK, u32
  view.setUint16(74, 15, LE);
  return message(20, payload);
}

const v4 = (...bytes: number[]) => bytes;
const v6 = (hex: string) => hex.match(/../g)!.map((b) => Number.parseInt(b, 16));

const LISTEN = socketMessage({
  family: 2,
  state: 10,
  sport: 8080,
  dport: 0,
  src: v4(127, 0, 0, 1),
  dst: v4(0, 0, 0, 0),
  rqueue: 3,
  wqueue: 4096,
  uid: 106,
  inode: 6665,
});
const ESTABLISHED_FIELDS: DiagFields = {
  family: 2,
  state: 1,
  timer: 1,
  retrans: 2,
  sport: 8080,
  dport: 40_000,
  src: v4(127, 0, 0, 1),
  dst: v4(10, 1, 2, 3),
  rqueue: 5,
  wqueue: 12,
  uid: 106,
  inode: 5893,
};
const ESTABLISHED = socketMessage(ESTABLISHED_FIELDS);
const MAPPED_CLOSE_WAIT = socketMessage({
  family: 10,
  state: 8,
  sport: 80,
  dport: 5000,
  src: v6('00000000000000000000ffff7f000001'),
  dst: v6('00000000000000000000ffff0a000009'),
  inode: 99,
});
const V6_TIME_WAIT = socketMessage({
  family: 10,
  state: 6,
  timer: 3,
  sport: 37_452,
  dport: 443,
  src: v6('00000000000000000000000000000001'),
  dst: v6('20010db8000000000000000000000001'),
});

function parse(bytes: Buffer) {
  const out: TcpSocket[] = [];
  const skipped = emptySkipCounts();
  const dumps = new NetlinkDumpParser({ littleEndian: LE }).parse(bytes, out, skipped);
  return { out, skipped, dumps };
}

test('decodes inet_diag_msg: addresses, ports, queues, LISTEN backlog, mapped IPv6', () => {
  const { out, skipped, dumps } = parse(
    Buffer.concat([LISTEN, ESTABLISHED, DONE, MAPPED_CLOSE_WAIT, V6_TIME_WAIT, DONE]),
  );
  assert.equal(dumps, 2);
  assert.equal(skipped.malformedMessages, 0);
  assert.deepEqual(out, [
    {
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
      uid: 106,
      inode: 6665,
      backlog: 4096,
    },
    {
      family: 4,
      state: 'ESTABLISHED',
      localAddress: '127.0.0.1',
      localPort: 8080,
      remoteAddress: '10.1.2.3',
      remotePort: 40_000,
      txQueue: 12,
      rxQueue: 5,
      timer: 1,
      retransmits: 2,
      uid: 106,
      inode: 5893,
    },
    {
      family: 6,
      state: 'CLOSE_WAIT',
      localAddress: '127.0.0.1',
      localPort: 80,
      remoteAddress: '10.0.0.9',
      remotePort: 5000,
      txQueue: 0,
      rxQueue: 0,
      timer: 0,
      retransmits: 0,
      uid: 0,
      inode: 99,
    },
    {
      family: 6,
      state: 'TIME_WAIT',
      localAddress: '::1',
      localPort: 37_452,
      remoteAddress: '2001:db8::1',
      remotePort: 443,
      txQueue: 0,
      rxQueue: 0,
      timer: 3,
      retransmits: 0,
      uid: 0,
      inode: 0,
    },
  ]);
});

test('the counting path reads the state byte and agrees with the full parse', () => {
  const bytes = Buffer.concat([LISTEN, ESTABLISHED, ESTABLISHED, DONE, V6_TIME_WAIT, DONE]);
  const counts = new Float64Array(12);
  const skipped = emptySkipCounts();
  assert.equal(new NetlinkDumpParser({ littleEndian: LE }).count(bytes, counts, skipped), 2);
  assert.deepEqual([...counts], [0, 2, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0]);
  assert.equal(skipped.malformedMessages, 0);
});

test('malformed and truncated messages are skipped and counted, never thrown', () => {
  const badFamily = Buffer.from(LISTEN);
  badFamily[16] = 7;
  const badState = Buffer.from(ESTABLISHED);
  badState[17] = 12;
  const short = message(20, Buffer.alloc(40)); // shorter than inet_diag_msg
  const unknownType = message(99, Buffer.alloc(8));
  const skipped = parse(
    Buffer.concat([badFamily, badState, short, unknownType, LISTEN, DONE, DONE]),
  );
  assert.equal(skipped.out.length, 1);
  assert.equal(skipped.skipped.malformedMessages, 4);
  assert.equal(skipped.dumps, 2);

  // Cut in the middle of a message: what came before is kept, the rest is one loss.
  const whole = Buffer.concat([LISTEN, ESTABLISHED, DONE]);
  const cut = parse(whole.subarray(0, LISTEN.length + 50));
  assert.equal(cut.out.length, 1);
  assert.equal(cut.skipped.malformedMessages, 1);
  assert.equal(cut.dumps, 0, 'no NLMSG_DONE: the reader will not trust it');
  // A few stray bytes after the end, and a length shorter than a header.
  assert.equal(parse(Buffer.concat([DONE, Buffer.alloc(6)])).skipped.malformedMessages, 1);
  const tooShort = Buffer.from(LISTEN);
  new DataView(tooShort.buffer, tooShort.byteOffset).setUint32(0, 8, LE);
  assert.deepEqual(parse(tooShort).skipped.malformedMessages, 1);
  // Random bytes: no crash, everything counted, nothing invented.
  const garbage = Buffer.alloc(4096);
  for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + 13) & 0xff;
  const noise = parse(garbage);
  assert.equal(noise.out.length, 0);
  assert.ok(noise.skipped.malformedMessages >= 1);
});

test('an error from the kernel fails the dump with its errno', () => {
  const error = message(2, Buffer.concat([int32(-1), Buffer.alloc(16)])); // EPERM
  assert.throws(() => parse(Buffer.concat([LISTEN, error])), {
    code: 'WATCH_NETLINK_FAILED',
    errno: 1,
    message: /the kernel answered EPERM \(1\)/,
  });
  const failedDone = message(3, int32(-4)); // EINTR
  assert.throws(() => parse(Buffer.concat([LISTEN, failedDone])), {
    code: 'WATCH_NETLINK_FAILED',
    errno: 4,
  });
  const counts = new Float64Array(12);
  assert.throws(
    () => new NetlinkDumpParser({ littleEndian: LE }).count(error, counts, emptySkipCounts()),
    { code: 'WATCH_NETLINK_FAILED' },
  );
  // Error 0 is an acknowledgement, not a failure.
  assert.equal(parse(Buffer.concat([message(2, int32(0)), DONE, DONE])).dumps, 2);
});

test('parseReusing hands back an earlier object only while its kernel record is unchanged', () => {
  const parser = new NetlinkDumpParser({ littleEndian: LE });
  const first: TcpSocket[] = [];
  parser.parse(
    Buffer.concat([LISTEN, ESTABLISHED, DONE, MAPPED_CLOSE_WAIT, DONE]),
    first,
    emptySkipCounts(),
  );
  const earlier = new Map(first.map((s) => [s.inode, s]));
  // The established socket's queue grew; the others did not change.
  const grown = socketMessage({ ...ESTABLISHED_FIELDS, rqueue: 6 });
  const second: TcpSocket[] = [];
  const skipped = emptySkipCounts();
  const dumps = parser.parseReusing(
    Buffer.concat([LISTEN, grown, DONE, MAPPED_CLOSE_WAIT, V6_TIME_WAIT, DONE]),
    earlier,
    second,
    skipped,
  );
  assert.equal(dumps, 2);
  assert.equal(second[0], first[0], 'LISTEN unchanged: the same object');
  assert.notEqual(second[1], first[1], 'a queue changed: a new object');
  assert.equal(second[1]!.rxQueue, 6);
  assert.equal(first[1]!.rxQueue, 5, 'the earlier object is left as it was');
  assert.equal(second[2], first[2]);
  assert.equal(second[3]!.state, 'TIME_WAIT', 'inode 0 is never looked up');
  assert.deepEqual(
    second,
    parse(Buffer.concat([LISTEN, grown, DONE, MAPPED_CLOSE_WAIT, V6_TIME_WAIT, DONE])).out,
  );
});

test('parseReusing with a state filter counts every socket and makes objects of the wanted states only', () => {
  const parser = new NetlinkDumpParser({ littleEndian: LE });
  const bytes = Buffer.concat([
    LISTEN,
    ESTABLISHED,
    ESTABLISHED,
    DONE,
    MAPPED_CLOSE_WAIT,
    V6_TIME_WAIT,
    DONE,
  ]);
  const wanted = new Uint8Array(12).fill(1);
  wanted[1] = 0; // ESTABLISHED
  wanted[6] = 0; // TIME_WAIT
  const only = { wanted, counts: new Float64Array(12) };
  const out: TcpSocket[] = [];
  assert.equal(parser.parseReusing(bytes, new Map(), out, emptySkipCounts(), only), 2);
  assert.deepEqual([...only.counts], [0, 2, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0]);
  assert.deepEqual(
    out,
    parse(bytes).out.filter((s) => s.state !== 'ESTABLISHED' && s.state !== 'TIME_WAIT'),
  );
});
