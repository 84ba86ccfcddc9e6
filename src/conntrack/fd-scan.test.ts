import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { closeWaitSocket } from '../../test/support/tcp-socket.ts';
import { findSocketHolders, HolderSearch, holderOf, scanSocketFds } from './fd-scan.ts';
import { attributeSockets, startFdScan, startHolderSearch } from './process-attribution.ts';
import { emptySkipCounts, type TcpSocket } from './socket.ts';

/**
 * A /proc-shaped tree where sockets are shared: 111 by pids 40 and 100 (twice
 * in 100: fds 3 and 10), 222 by pids 100 and 2000 ("2000" sorts before "300"
 * as text, not as a number). Pid 5's fd directory is gone (it exited); pid
 * 6's fds 0 and 1 are files, not links (readlink fails: counted unreadable).
 */
function sharedTree(t: { after(fn: () => void): void }): string {
  const root = mkdtempSync(join(tmpdir(), 'kw-proc-shared-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const links: [number, number, string][] = [
    [40, 1, 'socket:[111]'],
    [40, 2, 'socket:[444]'],
    [100, 3, 'socket:[111]'],
    [100, 9, 'socket:[222]'],
    [100, 10, 'socket:[111]'],
    [2000, 4, 'socket:[222]'],
    [2000, 5, 'pipe:[9]'],
    [300, 7, 'socket:[333]'],
    [300, 8, '/dev/null'],
  ];
  for (const [pid, fd, target] of links) {
    mkdirSync(join(root, String(pid), 'fd'), { recursive: true });
    writeFileSync(join(root, String(pid), 'comm'), `p${pid}\n`);
    symlinkSync(target, join(root, String(pid), 'fd', String(fd)));
  }
  mkdirSync(join(root, '5'));
  mkdirSync(join(root, '6', 'fd'), { recursive: true });
  writeFileSync(join(root, '6', 'fd', '0'), 'not a link');
  writeFileSync(join(root, '6', 'fd', '1'), 'not a link');
  return root;
}

/** The holder `ss -p` lists first: the highest pid, at its highest fd. */
const EXPECTED = { 111: { pid: 100, fd: 10 }, 222: { pid: 2000, fd: 4 }, 333: { pid: 300, fd: 7 } };

function holdersOf(sockets: TcpSocket[]): Record<number, { pid?: number; fd?: number }> {
  return Object.fromEntries(sockets.map((s) => [s.inode, { pid: s.pid, fd: s.fd }]));
}

test('a shared socket has one holder, the same from the full scan and the search, split or not', async (t) => {
  const root = sharedTree(t);
  const inodes = [111, 222, 333];
  const cases = [
    startFdScan(root), // no sockstat here: worker threads
    startFdScan(root, { shareCaller: true }),
    startHolderSearch(root),
    startHolderSearch(root, { shareCaller: true }),
    undefined, // attributeSockets' own search
  ];
  for (const scan of cases) {
    const sockets = inodes.map(closeWaitSocket);
    const skipped = emptySkipCounts();
    await attributeSockets(sockets, { procRoot: root, scan, skipped });
    assert.deepEqual(holdersOf(sockets), EXPECTED, `case ${cases.indexOf(scan)}`);
    assert.deepEqual(
      sockets.map((s) => s.process),
      ['p100', 'p2000', 'p300'],
    );
  }
  // The full scan lists every holder; the parts of a split scan together list the same.
  const whole = scanSocketFds(root);
  const halves = [scanSocketFds(root, 0, 2), scanSocketFds(root, 1, 2)];
  const triples = (entries: number[]) => {
    const out: string[] = [];
    for (let i = 0; i < entries.length; i += 3)
      out.push(`${entries[i]}/${entries[i + 1]}/${entries[i + 2]}`);
    return out.sort();
  };
  assert.deepEqual(triples(whole.entries), triples([...halves[0]!.entries, ...halves[1]!.entries]));
  assert.equal(whole.entries.length / 3, 7);
  assert.equal(whole.vanishedProcesses, 1, 'pid 5');
});

test('the search stops once every target has its final holder', (t) => {
  const root = sharedTree(t);
  // 222's holder is pid 2000, the highest: nothing below it is read, so pid 5
  // (gone) is never met. The full scan meets it.
  const one = new HolderSearch([222], 1);
  const counts = findSocketHolders(one, root);
  assert.deepEqual(holderOf(Number(one.best[0])), { pid: 2000, fd: 4 });
  assert.equal(counts.vanishedProcesses, 0);
  // 111 is held by pids 100 and 40: the search stops at 100, which wins.
  const high = new HolderSearch([111, 333], 1);
  assert.deepEqual(findSocketHolders(high, root), { vanishedProcesses: 0, unreadableFds: 0 });
  assert.deepEqual(
    [...high.best].map((key) => holderOf(Number(key))),
    [EXPECTED[111], EXPECTED[333]],
  );
  // 444 lives in pid 40 only: the search reads on down to it, past pid 6 to
  // the end, where a 555 nobody holds keeps it going (and gets no holder).
  const low = new HolderSearch([444, 555], 1);
  assert.deepEqual(findSocketHolders(low, root), { vanishedProcesses: 1, unreadableFds: 2 });
  assert.deepEqual(
    [...low.best].map((key) => Number(key)),
    [Number(low.best[0]), 0],
  );
  assert.deepEqual(holderOf(Number(low.best[0])), { pid: 40, fd: 2 });
  // Nothing to find: not even /proc is listed.
  assert.deepEqual(findSocketHolders(new HolderSearch([], 1), '/nonexistent'), {
    vanishedProcesses: 0,
    unreadableFds: 0,
  });
  // Two parts, run one after the other: the first cannot stop (the second has
  // not started, it may still meet any pid) and reads its fd of pid 6; the
  // second stops below pid 2000, where every target is final, and never reads
  // its fd of pid 6.
  const split = new HolderSearch([222], 2);
  const first = findSocketHolders(split, root, 0, 2);
  assert.deepEqual(first, { vanishedProcesses: 1, unreadableFds: 1 });
  const second = findSocketHolders(new HolderSearch([222], 2, split.buffer), root, 1, 2);
  assert.deepEqual(second, { vanishedProcesses: 0, unreadableFds: 0 });
  assert.deepEqual(holderOf(Number(split.best[0])), { pid: 2000, fd: 4 });
  // The same split run with part 1 first (its share of pid 100 holds 222 at
  // fd 9): part 0 still finds the better holder, pid 2000, and stops before
  // pid 6.
  const reversed = new HolderSearch([222], 2);
  findSocketHolders(new HolderSearch([222], 2, reversed.buffer), root, 1, 2);
  assert.deepEqual(findSocketHolders(reversed, root, 0, 2), {
    vanishedProcesses: 0,
    unreadableFds: 0,
  });
  assert.deepEqual(holderOf(Number(reversed.best[0])), { pid: 2000, fd: 4 });
  // Part 1 (odd fds) alone finds a holder of 111 (pid 100, fd 3) and ends
  // with nothing left unresolved; part 0, starting after it, must still look
  // and finds the holder that wins (pid 100, fd 10, in its share).
  const late = new HolderSearch([111], 2);
  findSocketHolders(new HolderSearch([111], 2, late.buffer), root, 1, 2);
  assert.deepEqual(holderOf(Number(late.best[0])), { pid: 100, fd: 3 });
  findSocketHolders(late, root, 0, 2);
  assert.deepEqual(holderOf(Number(late.best[0])), EXPECTED[111]);
});

test('parts split fds by number: an fd opened between two parts listing does not hide another', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'kw-proc-shift-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, '700', 'fd'), { recursive: true });
  symlinkSync('socket:[901]', join(root, '700', 'fd', '3'));
  symlinkSync('socket:[902]', join(root, '700', 'fd', '5'));
  const first = scanSocketFds(root, 0, 2);
  symlinkSync('socket:[903]', join(root, '700', 'fd', '4')); // opened mid-scan
  const second = scanSocketFds(root, 1, 2);
  const inodes = [...first.entries, ...second.entries].filter((_, i) => i % 3 === 0);
  // Split by place in each listing, fd 5 would be read by nobody.
  assert.ok(inodes.includes(901) && inodes.includes(902), `found ${inodes}`);
  const search = new HolderSearch([901, 902], 2);
  findSocketHolders(search, root, 0, 2);
  rmSync(join(root, '700', 'fd', '4'));
  findSocketHolders(new HolderSearch([901, 902], 2, search.buffer), root, 1, 2);
  assert.deepEqual(
    [...search.best].map((key) => holderOf(Number(key))),
    [
      { pid: 700, fd: 3 },
      { pid: 700, fd: 5 },
    ],
  );
});
