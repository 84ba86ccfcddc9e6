/**
 * The netlink parser fed with real bytes: `ss -tan -D -` captured while this
 * test holds sockets in every state it can produce (IPv4, IPv6, IPv4-mapped
 * IPv6), compared field by field with the /proc backend read at the same
 * moment. Only sockets on the test's own port are compared.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { endianness } from 'node:os';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { NetlinkDumpParser } from '../../src/conntrack/netlink-parser.ts';
import { takeSnapshot } from '../../src/conntrack/snapshot.ts';
import { emptySkipCounts, formatEndpoint, type TcpSocket } from '../../src/conntrack/socket.ts';
import { EXPECTED, openEveryState, settle, sortKeys } from './every-state-sockets.ts';

const run = promisify(execFile);

function onPort(sockets: TcpSocket[], port: number): TcpSocket[] {
  const key = (s: TcpSocket) =>
    `${formatEndpoint(s.localAddress, s.localPort)} ${formatEndpoint(s.remoteAddress, s.remotePort)}`;
  return sockets
    .filter((s) => s.localPort === port || s.remotePort === port)
    .sort((a, b) => key(a).localeCompare(key(b)));
}

for (const [host, connectHost] of [
  ['127.0.0.1', '127.0.0.1'],
  ['::1', '::1'],
  ['::', '127.0.0.1'], // IPv4-mapped IPv6 on the server side
] as const) {
  test(`ss -tan -D - bytes over ${host} from ${connectHost} decode as /proc reads them`, async (t) => {
    const { server, port, sockets } = await openEveryState(host, connectHost);
    t.after(() => {
      for (const s of sockets) s.destroy();
      server.close();
    });
    await settle(port, sortKeys(EXPECTED));

    // Two reads of a live table a moment apart: a timer or queue may move
    // between them (a delayed ACK on an established socket), so a mismatch
    // is read again, up to three times, before it fails.
    let mine: TcpSocket[] = [];
    for (let attempt = 1; ; attempt++) {
      const [dump, fromProc] = await Promise.all([
        run('ss', ['-tan', '-D', '-'], { encoding: 'buffer', maxBuffer: 1 << 30 }),
        takeSnapshot({ backend: 'proc' }),
      ]);
      const parsed: TcpSocket[] = [];
      const skipped = emptySkipCounts();
      const parser = new NetlinkDumpParser({ littleEndian: endianness() === 'LE' });
      assert.equal(parser.parse(dump.stdout, parsed, skipped), 2, 'IPv4 and IPv6 dumps both ended');
      assert.equal(skipped.malformedMessages, 0);
      mine = onPort(parsed, port);
      const proc = onPort(fromProc.sockets, port);
      try {
        const states: Record<string, number> = {};
        for (const s of mine) states[s.state] = (states[s.state] ?? 0) + 1;
        assert.deepEqual(sortKeys(states), sortKeys(EXPECTED));
        assert.equal(mine.length, proc.length);
        for (let i = 0; i < mine.length; i++) {
          const { backlog, ...fields } = mine[i]!;
          assert.deepEqual(fields, proc[i], `${fields.state} ${fields.localPort}`);
          // Only netlink knows the backlog; node's listen() asks for 511.
          assert.equal(backlog, fields.state === 'LISTEN' ? 511 : undefined);
        }
        break;
      } catch (error) {
        if (attempt === 3) throw error;
      }
    }
    if (host === '::') {
      const listener = mine.find((s) => s.state === 'LISTEN')!;
      assert.equal(listener.localAddress, '::');
      const accepted = mine.filter((s) => s.family === 6 && s.state !== 'LISTEN');
      assert.ok(accepted.length > 0);
      assert.ok(
        accepted.every((s) => s.localAddress === '127.0.0.1'),
        'mapped, decoded to IPv4',
      );
    }
    assert.ok(mine.some((s) => s.state === 'TIME_WAIT' && s.inode === 0 && s.timer === 3));
  });
}
