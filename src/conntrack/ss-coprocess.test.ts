/**
 * The long-lived shell that runs ss for serve's watcher, against the real
 * ss and against scripts standing in for a broken one.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { NetlinkDumpParser } from './netlink-parser.ts';
import { checkComplete } from './netlink-reader.ts';
import { emptySkipCounts, type TcpSocket } from './socket.ts';
import { SsCoprocess } from './ss-coprocess.ts';

const LE = new Uint16Array(new Uint8Array([1, 0]).buffer)[0] === 1;

function parse(bytes: Buffer): TcpSocket[] {
  const sockets: TcpSocket[] = [];
  checkComplete(
    new NetlinkDumpParser({ littleEndian: LE }).parse(bytes, sockets, emptySkipCounts()),
  );
  return sockets;
}

function fakeSs(body: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'kw-fake-ss-')), 'ss');
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** Waits (bounded) until a process is gone; false if it outlived the deadline. */
async function gone(pid: number, withinMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (existsSync(`/proc/${pid}`)) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

test('dumps through one shell, with the state filter, and survives the shell being killed', async (t) => {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const ss = new SsCoprocess();
  t.after(() => {
    ss.close();
    server.close();
  });

  const all = parse(await ss.dump());
  assert.ok(all.some((s) => s.state === 'LISTEN' && s.localPort === port));
  const shell = ss.pid!;
  const listening = parse(await ss.dump(['LISTEN']));
  assert.equal(ss.pid, shell, 'the same shell answers again');
  assert.ok(listening.length > 0);
  assert.ok(listening.every((s) => s.state === 'LISTEN'));
  assert.ok(listening.some((s) => s.localPort === port));

  process.kill(shell, 'SIGKILL');
  assert.ok(await gone(shell));
  const again = parse(await ss.dump(['LISTEN']));
  assert.ok(
    again.some((s) => s.localPort === port),
    'a new shell answers after kill -9',
  );
  assert.notEqual(ss.pid, shell);
});

test('a failing ss reports its message and the shell goes on; a missing one is unavailable', async (t) => {
  const failing = new SsCoprocess({
    ssPath: fakeSs('echo "Cannot open netlink socket: Permission denied" >&2; exit 1'),
  });
  const missing = new SsCoprocess({ ssPath: '/nonexistent/keepwire-test/ss' });
  t.after(() => {
    failing.close();
    missing.close();
  });
  await assert.rejects(failing.dump(), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'WATCH_SS_FAILED');
    assert.match(error.message, /Cannot open netlink socket: Permission denied/);
    return true;
  });
  const shell = failing.pid;
  await assert.rejects(failing.dump(), /Permission denied/);
  assert.equal(failing.pid, shell, 'one failed dump does not end the shell');
  await assert.rejects(missing.dump(), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'WATCH_SS_UNAVAILABLE');
    return true;
  });
});

test('a dump that hangs is killed with its shell at the timeout; close() ends the shell', async (t) => {
  const hanging = new SsCoprocess({ ssPath: fakeSs('exec sleep 60'), timeoutMs: 300 });
  t.after(() => hanging.close());
  const dumping = hanging.dump();
  const shell = hanging.pid!;
  await assert.rejects(dumping, (error: Error & { code?: string }) => {
    assert.equal(error.code, 'WATCH_SS_FAILED');
    assert.match(error.message, /no answer within 300 ms/);
    return true;
  });
  assert.ok(await gone(shell), 'the shell and its sleeping ss were killed');

  const real = new SsCoprocess();
  parse(await real.dump(['LISTEN']));
  const pid = real.pid!;
  real.close();
  assert.ok(await gone(pid), 'close() ends the shell');
});
