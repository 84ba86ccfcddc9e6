import assert from 'node:assert/strict';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { netlinkArguments } from './netlink-dump.ts';
import { takeSnapshot, takeStateCounts } from './snapshot.ts';

const LE = endianness() === 'LE';

/** A netlink message with an int payload (NLMSG_ERROR 2, NLMSG_DONE 3), host order. */
function intMessage(type: number, value: number, extra = 0): Buffer {
  const bytes = Buffer.alloc(20 + extra);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  view.setUint32(0, bytes.length, LE);
  view.setUint16(4, type, LE);
  view.setInt32(16, value, LE);
  return bytes;
}

/** Stand-ins for `ss`, each a shell script in a fresh directory. */
function fakeSs(t: { after(fn: () => void): void }): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'keepwire-fake-ss-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'error.bin'), intMessage(2, -1, 16)); // NLMSG_ERROR, EPERM
  writeFileSync(join(dir, 'half.bin'), intMessage(3, 0)); // IPv4 ended, IPv6 never did
  const script = (name: string, body: string) => {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  };
  return {
    missing: join(dir, 'no-such-ss'),
    exits: script('ss-exits', 'echo "ss: invalid option -- D" >&2; exit 1'),
    refused: script('ss-refused', `cat "${dir}/error.bin"`),
    incomplete: script('ss-incomplete', `cat "${dir}/half.bin"`),
  };
}

test('ss arguments: the binary dump, with the kernel state filter', () => {
  assert.deepEqual(netlinkArguments(), ['-tan', '-D', '-']);
  assert.deepEqual(netlinkArguments(['CLOSE_WAIT', 'TIME_WAIT']), [
    '-tan',
    '-D',
    '-',
    'state',
    'close-wait',
    'state',
    'time-wait',
  ]);
});

test('the netlink backend is the default and reads LISTEN backlogs', async (t) => {
  const server = createServer().listen({ port: 0, host: '127.0.0.1', backlog: 17 });
  await once(server, 'listening');
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;
  const snapshot = await takeSnapshot({ states: ['LISTEN'], attribute: true });
  assert.equal(snapshot.source, 'netlink');
  assert.ok(snapshot.sockets.every((s) => s.state === 'LISTEN'));
  const mine = snapshot.sockets.find((s) => s.localPort === port);
  assert.equal(mine?.backlog, 17);
  assert.equal(mine?.pid, process.pid);
  assert.equal((await takeStateCounts()).source, 'netlink');
});

test('without a writable temporary directory, ss writes into a pipe instead', async (t) => {
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = '/nonexistent/keepwire-tmp';
  t.after(() => {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  });
  const [viaPipe, counts] = await Promise.all([
    takeSnapshot({ backend: 'netlink' }),
    takeStateCounts({ backend: 'netlink' }),
  ]);
  assert.ok(viaPipe.sockets.some((s) => s.state === 'LISTEN'));
  assert.ok(counts.states.LISTEN > 0);
});

test('when ss is missing, fails or the kernel refuses, auto falls back to /proc', async (t) => {
  const ss = fakeSs(t);
  for (const [name, ssPath] of Object.entries(ss)) {
    const snapshot = await takeSnapshot({ ssPath, states: ['LISTEN'], attribute: true });
    assert.equal(snapshot.source, 'proc', name);
    assert.ok(snapshot.sockets.length > 0, name);
    assert.equal((await takeStateCounts({ ssPath, blocking: true })).source, 'proc', name);
  }
});

test('a forced netlink backend says why it failed', async (t) => {
  const ss = fakeSs(t);
  const cases = [
    [ss.missing, 'WATCH_SS_UNAVAILABLE', /was not found; install iproute2/],
    [ss.exits, 'WATCH_SS_FAILED', /invalid option -- D/],
    [ss.refused, 'WATCH_NETLINK_FAILED', /the kernel answered EPERM \(1\)/],
    [ss.incomplete, 'WATCH_NETLINK_FAILED', /only 1 of its 2 parts/],
  ] as const;
  for (const [ssPath, code, message] of cases) {
    await assert.rejects(takeSnapshot({ backend: 'netlink', ssPath }), { code, message });
    await assert.rejects(takeStateCounts({ backend: 'netlink', ssPath }), { code, message });
  }
});
