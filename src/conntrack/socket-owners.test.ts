/**
 * Incremental attribution against real processes and real sockets: each
 * sample must name the process that holds each socket now, although it
 * re-reads only the processes that can have changed.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../config/index.ts';
import type { CloseWaitLeak } from './findings.ts';
import type { TcpSocket } from './socket.ts';
import { SocketWatcher } from './socket-watcher.ts';
import { WatchSampler } from './watch-sampler.ts';

/** A child that opens sockets when told: `connect PORT N` answers {"ports": [local ports]}. */
const HOLDER = `
const net = require('node:net');
const held = [];
require('node:readline').createInterface({ input: process.stdin }).on('line', async (line) => {
  const [command, port, count] = line.split(' ');
  if (command !== 'connect') return;
  const ports = [];
  for (let i = 0; i < Number(count); i++) {
    const socket = net.connect({ host: '127.0.0.1', port: Number(port), allowHalfOpen: true });
    socket.on('error', () => {});
    held.push(socket);
    await new Promise((resolve) => socket.once('connect', resolve));
    ports.push(socket.localPort);
    // A server that closes first leaves this side in CLOSE_WAIT: wait until it has.
    if (line.endsWith(' eof')) await new Promise((resolve) => socket.once('end', resolve));
  }
  process.stdout.write(JSON.stringify({ ports }) + '\\n');
});
process.on('message', (_message, socket) => held.push(socket));
`;

interface Holder {
  child: ChildProcess;
  pid: number;
  connect(server: TestServer, count: number): Promise<number[]>;
  kill(): Promise<void>;
}

function startHolder(ipc = false): Holder {
  const child = spawn(process.execPath, ['-e', HOLDER], {
    stdio: ['pipe', 'pipe', 'inherit', ...(ipc ? (['ipc'] as const) : [])],
  });
  const lines = createInterface({ input: child.stdout! });
  const replies: ((line: string) => void)[] = [];
  lines.on('line', (line) => replies.shift()?.(line));
  return {
    child,
    pid: child.pid!,
    async connect(server, count) {
      const reply = new Promise<string>((resolve) => replies.push(resolve));
      child.stdin!.write(`connect ${server.port} ${count}${server.closesFirst ? ' eof' : ''}\n`);
      return (JSON.parse(await reply) as { ports: number[] }).ports;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}

interface TestServer {
  server: Server;
  port: number;
  closesFirst: boolean;
  accepted: Socket[];
}

async function startServer(closesFirst: boolean): Promise<TestServer> {
  const accepted: Socket[] = [];
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    accepted.push(socket);
    socket.on('error', () => {});
    if (closesFirst) socket.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port, closesFirst, accepted };
}

function stopServer(server: TestServer): void {
  for (const socket of server.accepted) socket.destroy();
  server.server.close();
}

/** The client sockets toward `server` whose local ports are `ports`. */
function clientSockets(sockets: TcpSocket[], server: TestServer, ports: number[]): TcpSocket[] {
  const wanted = new Set(ports);
  return sockets.filter((s) => s.remotePort === server.port && wanted.has(s.localPort));
}

function holdsInode(pid: number, inode: number): boolean {
  const dir = `/proc/${pid}/fd`;
  return readdirSync(dir).some((fd) => {
    try {
      return readlinkSync(`${dir}/${fd}`) === `socket:[${inode}]`;
    } catch {
      return false;
    }
  });
}

const sampler = () => new WatchSampler({ attribute: true, rescanSlices: 60, fullSampleMs: 0 });

test('a process that opens sockets after the first sample, or starts after it, is attributed', async (t) => {
  const server = await startServer(false);
  const early = startHolder();
  t.after(async () => {
    await early.kill();
    stopServer(server);
  });
  const watch = sampler();
  const before = await early.connect(server, 2);
  const first = await watch.take();
  assert.equal(clientSockets(first.snapshot.sockets, server, before).length, 2);
  for (const socket of clientSockets(first.snapshot.sockets, server, before))
    assert.equal(socket.pid, early.pid, 'the first sample reads every fd');

  const after = await early.connect(server, 5);
  const late = startHolder();
  t.after(() => late.kill());
  const lateOnes = await late.connect(server, 3);
  const second = await watch.take();
  const opened = clientSockets(second.snapshot.sockets, server, after);
  assert.equal(opened.length, 5);
  for (const socket of opened) {
    assert.equal(socket.pid, early.pid);
    assert.equal(socket.process, first.snapshot.sockets.find((s) => s.pid === early.pid)?.process);
    assert.equal(typeof socket.fd, 'number');
  }
  const started = clientSockets(second.snapshot.sockets, server, lateOnes);
  assert.equal(started.length, 3);
  for (const socket of started) assert.equal(socket.pid, late.pid);
  assert.equal(clientSockets(second.snapshot.sockets, server, before).length, 2);
  for (const socket of clientSockets(second.snapshot.sockets, server, before))
    assert.equal(socket.pid, early.pid, 'sockets kept from the first sample keep their owner');
});

test('a process that exits is dropped; a socket handed to another process is re-attributed', async (t) => {
  const server = await startServer(false);
  const doomed = startHolder();
  const receiver = startHolder(true);
  t.after(async () => {
    await doomed.kill();
    await receiver.kill();
    stopServer(server);
  });
  const gone = await doomed.connect(server, 3);
  // A socket this test's process opens, then hands over: the same inode, another holder.
  const moving = connect({ host: '127.0.0.1', port: server.port });
  moving.on('error', () => {});
  await once(moving, 'connect');
  const movingPort = moving.localPort!;
  const watch = sampler();
  const first = await watch.take();
  const [mine] = clientSockets(first.snapshot.sockets, server, [movingPort]);
  assert.equal(mine?.pid, process.pid);
  assert.equal(clientSockets(first.snapshot.sockets, server, gone)[0]?.pid, doomed.pid);

  await doomed.kill();
  const sent = new Promise<void>((resolve, reject) =>
    receiver.child.send('take it', moving, (error) => (error ? reject(error) : resolve())),
  );
  await sent;
  // This process closes its fd once the receiver acknowledges the handle: wait for that.
  const deadline = Date.now() + 30_000;
  while (holdsInode(process.pid, mine!.inode)) {
    assert.ok(Date.now() < deadline, 'this process never let go of the handed-over socket');
    await sleep(20);
  }
  const second = await watch.take();
  for (const socket of second.snapshot.sockets)
    assert.notEqual(socket.pid, doomed.pid, `a dead process still holds ${socket.inode}`);
  const [moved] = clientSockets(second.snapshot.sockets, server, [movingPort]);
  assert.ok(moved, 'the handed-over socket is still open');
  assert.equal(moved.inode, mine!.inode, 'the same socket');
  assert.equal(moved.pid, receiver.pid, 're-attributed to the process that holds it now');
  assert.equal(mine!.pid, process.pid, "the earlier sample's object was not changed");
});

test('a growing CLOSE-WAIT leak is attributed at the next sample and reported', async (t) => {
  const closer = await startServer(true);
  const leaker = startHolder();
  t.after(async () => {
    await leaker.kill();
    stopServer(closer);
  });
  const config = loadConfig({ env: {} }).watch;
  const watcher = new SocketWatcher(config, {
    onSample: () => {},
    onError: (error) => assert.fail(error),
  });
  const leakOf = () =>
    watcher
      .findings()
      .findings.find(
        (f): f is CloseWaitLeak =>
          f.kind === 'close-wait-leak' && f.remote === `127.0.0.1:${closer.port}`,
      );
  const heldBy = (ports: number[]) =>
    clientSockets(watcher.latest!.sockets, closer, ports).filter(
      (s) => s.state === 'CLOSE_WAIT' && s.pid === leaker.pid,
    ).length;

  const firstPorts = await leaker.connect(closer, 2);
  await watcher.sample();
  await watcher.sample();
  assert.equal(heldBy(firstPorts), 2);
  assert.equal(leakOf()?.count, 2, 'seen in two samples: a leak');
  assert.equal(leakOf()?.pid, leaker.pid);

  const grown = await leaker.connect(closer, 4);
  await watcher.sample();
  assert.equal(heldBy(grown), 4, 'every new CLOSE_WAIT socket is attributed at the next sample');
  const summary = watcher.summary({ by: 'process', state: 'CLOSE_WAIT', port: closer.port });
  assert.deepEqual(
    summary.groups?.map((g) => 'pid' in g && [g.pid, g.count]),
    [[leaker.pid, 6]],
  );
  await watcher.sample();
  assert.equal(leakOf()?.count, 6, 'and in the leak from its second sample on');
  assert.ok(leakOf()!.oldestHeldMs! >= 0);
});

test('a light sample counts ESTABLISHED, carries the full sample’s, and reads and attributes a new CLOSE_WAIT', async (t) => {
  const quiet = await startServer(false);
  const closer = await startServer(true);
  const holder = startHolder();
  const watch = new WatchSampler({ attribute: true, rescanSlices: 60, fullSampleMs: 3_600_000 });
  t.after(async () => {
    watch.close();
    await holder.kill();
    stopServer(quiet);
    stopServer(closer);
  });
  const early = await holder.connect(quiet, 2);
  const first = await watch.take();
  assert.equal(first.fresh, undefined, 'the first sample is full');
  assert.equal(first.snapshot.carried, undefined);
  const earlyOnes = clientSockets(first.snapshot.sockets, quiet, early);
  assert.equal(earlyOnes.length, 2);
  for (const socket of earlyOnes) assert.equal(socket.pid, holder.pid);

  const later = await holder.connect(quiet, 3);
  const leaking = await holder.connect(closer, 2);
  const second = await watch.take();
  assert.ok(second.fresh, 'the next sample is light');
  for (const socket of second.fresh)
    assert.ok(socket.state !== 'ESTABLISHED' && socket.state !== 'TIME_WAIT', socket.state);
  assert.deepEqual(second.snapshot.carried, {
    states: ['ESTABLISHED', 'TIME_WAIT'],
    takenAt: first.snapshot.takenAt,
  });
  const carried = clientSockets(second.snapshot.sockets, quiet, early);
  assert.deepEqual(
    new Set(carried),
    new Set(earlyOnes),
    'the full sample’s objects, attribution and all',
  );
  assert.equal(clientSockets(second.snapshot.sockets, quiet, later).length, 0, 'counted, not read');
  assert.ok(second.snapshot.counts!.ESTABLISHED >= 2 * (early.length + later.length));
  const closeWait = second.fresh.filter(
    (s) => s.remotePort === closer.port && leaking.includes(s.localPort),
  );
  assert.equal(closeWait.length, 2);
  for (const socket of closeWait) {
    assert.equal(socket.state, 'CLOSE_WAIT');
    assert.equal(socket.pid, holder.pid, 'attributed on the light sample');
  }
  assert.ok(second.snapshot.counts!.CLOSE_WAIT >= 2);

  const every = new WatchSampler({ attribute: true, rescanSlices: 60, fullSampleMs: 1 });
  t.after(() => every.close());
  await every.take();
  const full = await every.take();
  assert.equal(full.fresh, undefined, 'fullSampleMs elapsed: a full sample');
  assert.equal(clientSockets(full.snapshot.sockets, quiet, later).length, 3);
});

test('a socket two processes hold is the higher pid’s; when that one exits, the other takes it over', async (t) => {
  const server = await startServer(false);
  const shared = connect({ host: '127.0.0.1', port: server.port });
  shared.on('error', () => {});
  await once(shared, 'connect');
  const port = shared.localPort!;
  // Two children inherit the socket as their fd 3, then this process lets go of it.
  const inherit = () => spawn('sleep', ['600'], { stdio: ['ignore', 'ignore', 'ignore', shared] });
  const first = inherit();
  const second = inherit();
  await Promise.all([once(first, 'spawn'), once(second, 'spawn')]);
  shared.destroy();
  const kill = async (child: ChildProcess) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };
  const watch = sampler();
  t.after(async () => {
    watch.close();
    await kill(first);
    await kill(second);
    stopServer(server);
  });
  const [higher, lower] = first.pid! > second.pid! ? [first, second] : [second, first];
  const [both] = clientSockets((await watch.take()).snapshot.sockets, server, [port]);
  assert.ok(both, 'the socket is open');
  assert.ok(holdsInode(lower.pid!, both.inode) && holdsInode(higher.pid!, both.inode));
  assert.ok(!holdsInode(process.pid, both.inode));
  assert.equal(both.pid, higher.pid, 'the higher pid, as ss -p and the CLI');
  await watch.take(); // the holder is settled: nothing to re-read in the lower one from here

  await kill(higher);
  const [left] = clientSockets((await watch.take()).snapshot.sockets, server, [port]);
  assert.equal(left?.pid, lower.pid, 'taken over at the next sample');
});
