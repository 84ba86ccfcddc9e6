import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { closeWaitSocket } from '../../test/support/tcp-socket.ts';
import { attributeSockets, scanThreads } from './process-attribution.ts';
import { takeSnapshot } from './snapshot.ts';
import { emptySkipCounts } from './socket.ts';

test('vanished processes, unreadable fds and non-socket links are skipped and counted', async (t) => {
  // A /proc-shaped tree with every race frozen in place: the links are real
  // symlinks whose targets read like the kernel's ("socket:[INODE]").
  const root = mkdtempSync(join(tmpdir(), 'kw-proc-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, '100/fd'), { recursive: true });
  symlinkSync('socket:[111]', join(root, '100/fd/3'));
  symlinkSync('/dev/null', join(root, '100/fd/4'));
  symlinkSync('pipe:[222]', join(root, '100/fd/5'));
  writeFileSync(join(root, '100/fd/6'), 'not a link'); // readlink fails: EINVAL
  writeFileSync(join(root, '100/comm'), 'wazuh-modulesd\n');
  mkdirSync(join(root, '200')); // exited: no fd directory any more
  mkdirSync(join(root, '300/fd'), { recursive: true });
  symlinkSync('socket:[333]', join(root, '300/fd/7')); // exited before comm was read
  mkdirSync(join(root, 'self'));
  mkdirSync(join(root, 'net'));

  const sockets = [closeWaitSocket(111), closeWaitSocket(333), closeWaitSocket(444)];
  const skipped = emptySkipCounts();
  await attributeSockets(sockets, { procRoot: root, skipped, heldSinceStates: ['CLOSE_WAIT'] });
  assert.equal(sockets[0]!.pid, 100);
  assert.equal(sockets[0]!.process, 'wazuh-modulesd');
  assert.equal(sockets[0]!.fd, 3);
  assert.equal(typeof sockets[0]!.heldSince, 'number');
  assert.equal(sockets[1]!.pid, 300);
  assert.equal(sockets[1]!.process, '?');
  assert.equal(sockets[2]!.pid, undefined);
  assert.deepEqual(skipped, {
    malformedLines: 0,
    malformedMessages: 0,
    unreadableFiles: 0,
    vanishedProcesses: 2,
    unreadableFds: 1,
  });
});

test('sockets are attributed to the real process holding them', async (t) => {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;
  for (const backend of ['netlink', 'proc', 'ss'] as const) {
    const snapshot = await takeSnapshot({ attribute: true, backend, states: ['LISTEN'] });
    const mine = snapshot.sockets.find((s) => s.localPort === port);
    assert.ok(mine, backend);
    assert.equal(mine.pid, process.pid);
    assert.equal(typeof mine.fd, 'number');
    assert.equal(snapshot.source, backend);
  }
});

test('a missing ss falls back to /proc', async () => {
  const snapshot = await takeSnapshot({ states: ['LISTEN'], ssPath: '/nonexistent/ss' });
  assert.equal(snapshot.source, 'proc');
  assert.ok(snapshot.sockets.every((s) => s.state === 'LISTEN'));
  await assert.rejects(takeSnapshot({ backend: 'ss', ssPath: '/nonexistent/ss' }), {
    code: 'WATCH_SS_UNAVAILABLE',
  });
  await assert.rejects(takeSnapshot({ backend: 'proc', procRoot: '/nonexistent' }), {
    code: 'WATCH_PROC_UNREADABLE',
  });
});

test('the fd scan takes workers on big hosts, and in the CLI only while a core is idle', () => {
  const quiet = { cores: 2, loadAverage: 0.3 };
  const busy = { cores: 2, loadAverage: 1.2 };
  assert.equal(scanThreads(10_000, quiet), 1, 'small host: the calling thread alone');
  assert.equal(scanThreads(50_000, quiet), 2);
  assert.equal(scanThreads(50_000, { ...quiet, shareCaller: true }), 2, 'an idle core: split');
  assert.equal(scanThreads(50_000, { ...busy, shareCaller: true }), 1, 'no idle core: inline');
  assert.equal(scanThreads(50_000, busy), 2, 'serve keeps its event loop free all the same');
  assert.equal(scanThreads(50_000, { cores: 16, loadAverage: 3, shareCaller: true }), 4);
  // A configured threshold decides alone: tests and operators get the path they ask for.
  assert.equal(scanThreads(10, { ...busy, shareCaller: true, configured: '0' }), 2);
  assert.equal(scanThreads(50_000, { ...quiet, shareCaller: true, configured: '100000' }), 1);
  assert.equal(scanThreads(50_000, { ...busy, shareCaller: true, configured: 'x' }), 1);
});
