import assert from 'node:assert/strict';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { readPieces, startNetlinkDump } from './netlink-dump.ts';
import { NetlinkDumpParser } from './netlink-parser.ts';
import { emptySkipCounts, type TcpSocket } from './socket.ts';

const LE = endianness() === 'LE';

/** A real dump of this host with at least 2 x `connections` loopback sockets in it. */
async function realDump(t: TestContext, connections: number): Promise<Buffer> {
  const held: Socket[] = [];
  const server = createServer((socket) => held.push(socket)).listen(0, '127.0.0.1');
  t.after(() => {
    for (const socket of held) socket.destroy();
    server.close();
  });
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  for (let i = 0; i < connections; i++) {
    const socket = connect(port, '127.0.0.1');
    held.push(socket);
    await once(socket, 'connect');
  }
  return copyAll((await startNetlinkDump()).pieces());
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'keepwire-dump-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** What the parser makes of some bytes, whole or in pieces. */
function decode(pieces: Iterable<Uint8Array>) {
  const parser = new NetlinkDumpParser({ littleEndian: LE });
  const sockets: TcpSocket[] = [];
  const skipped = emptySkipCounts();
  let dumps = 0;
  let error: unknown;
  try {
    for (const piece of pieces) dumps += parser.parse(piece, sockets, skipped);
  } catch (thrown) {
    error = thrown;
  }
  return { sockets, skipped, dumps, error };
}

/** The pieces joined, each copied before the next overwrites it. */
function copyAll(pieces: Iterable<Uint8Array>): Buffer {
  const copies: Buffer[] = [];
  for (const piece of pieces) copies.push(Buffer.from(piece));
  return Buffer.concat(copies);
}

/** Every message of a piece lies whole inside it. */
function endsOnMessages(piece: Uint8Array): boolean {
  const view = new DataView(piece.buffer, piece.byteOffset, piece.byteLength);
  let at = 0;
  while (at < piece.length) at += (view.getUint32(at, LE) + 3) & ~3;
  return at === piece.length;
}

/**
 * The dump with at most `keep` socket messages, the rest (NLMSG_DONE of each
 * family) as they were: a busy host's dump is megabytes.
 */
function trimmed(dump: Buffer, keep: number): Buffer {
  const view = new DataView(dump.buffer, dump.byteOffset, dump.byteLength);
  const kept: Buffer[] = [];
  let sockets = 0;
  for (let at = 0; at < dump.length; ) {
    const length = (view.getUint32(at, LE) + 3) & ~3;
    const isSocket = view.getUint16(at + 4, LE) === 20;
    if (!isSocket || sockets++ < keep) kept.push(dump.subarray(at, at + length));
    at += length;
  }
  return Buffer.concat(kept);
}

test('a dump read in pieces: every piece ends on a message, and they decode as the whole', async (t) => {
  const whole = trimmed(await realDump(t, 200), 600);
  assert.ok(whole.length > 400 * 88, `a dump of ${whole.length} bytes`);
  const dir = tempDir(t);
  const cases: [string, Buffer][] = [
    ['whole', whole],
    ['cut inside a message', whole.subarray(0, whole.length - 50)],
    ['a length shorter than a header', Buffer.concat([whole.subarray(0, 880), Buffer.alloc(40)])],
    [
      'a length past the end',
      Buffer.concat([
        whole.subarray(0, 880),
        Buffer.from([255, 255, 0, 0, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2]),
      ]),
    ],
  ];
  for (const [name, bytes] of cases) {
    const path = join(dir, 'dump.bin');
    writeFileSync(path, bytes);
    const expected = decode([bytes]);
    for (const size of [64, 100, 1000, 4096, 1 << 20]) {
      const pieces: Buffer[] = [];
      for (const piece of readPieces(openSync(path, 'r'), size)) pieces.push(Buffer.from(piece)); // copied: the next piece reuses the buffer
      assert.ok(Buffer.concat(pieces).equals(bytes), `${name}, ${size}: every byte once, in order`);
      if (name === 'whole')
        assert.ok(pieces.every(endsOnMessages), `${name}, ${size}: pieces of whole messages`);
      assert.deepEqual(decode(pieces), expected, `${name}, pieces of ${size}`);
    }
  }
  assert.equal(decode([whole]).dumps, 2);
});

test('the dump hands over the bytes ss wrote, from a file or a pipe', async (t) => {
  const whole = await realDump(t, 50);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'dump.bin'), whole);
  const ssPath = join(dir, 'ss');
  writeFileSync(ssPath, `#!/bin/sh\ncat "${dir}/dump.bin"\n`);
  chmodSync(ssPath, 0o755);
  const unwritable = join(dir, 'missing'); // no temporary file: ss writes into a pipe
  for (const tmp of [undefined, unwritable]) {
    const before = process.env.TMPDIR;
    if (tmp !== undefined) process.env.TMPDIR = tmp;
    try {
      const dump = await startNetlinkDump({ ssPath });
      assert.equal(dump.size, whole.length);
      assert.ok(copyAll(dump.pieces()).equals(whole));
    } finally {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
    }
  }
});
