/**
 * Reads every TCP socket from /proc/net/tcp and /proc/net/tcp6.
 *
 * The kernel hands these files out one page (~4 KB, ~27 lines) per read()
 * whatever the buffer size (seq_file), so 50,000 sockets take ~1,850 reads.
 * Two modes:
 * - blocking (the CLI): a tight readSync loop, then one parse. Cheapest in
 *   CPU: a libuv round trip per 4 KB read costs more than the read itself.
 * - non-blocking (`keepwire serve`): async reads, the next read (the kernel
 *   formatting lines on a libuv thread) overlapping the parse of the current
 *   chunk, so the admin listener keeps answering while a sample is taken.
 *
 * A missing or unreadable file (IPv6 disabled) is counted, not fatal, unless
 * neither can be read.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { endianness } from 'node:os';
import { WatchProcUnreadableError } from './errors.ts';
import { ProcNetParser, type StateMask } from './proc-net-parser.ts';
import type { SkipCounts, TcpSocket } from './socket.ts';

const CHUNK_BYTES = 256 * 1024;

interface ReadOptions {
  procRoot?: string;
  skipped: SkipCounts;
  /** Read with blocking syscalls (fastest; for the CLI). */
  blocking?: boolean;
}

export async function readProcSockets(
  options: ReadOptions & { mask?: StateMask },
): Promise<TcpSocket[]> {
  const parser = new ProcNetParser({ littleEndian: endianness() === 'LE' });
  const sockets: TcpSocket[] = [];
  await forEachFile(
    options,
    (family) => (text, start) =>
      parser.parseLines(text, start, family, sockets, options.skipped, options.mask),
  );
  return sockets;
}

/** Counts per kernel state number (index 1..11) without building a socket object. */
export async function countProcStates(options: ReadOptions): Promise<Float64Array> {
  const parser = new ProcNetParser({ littleEndian: endianness() === 'LE' });
  const counts = new Float64Array(12);
  await forEachFile(
    options,
    (family) => (text, start) => parser.countLines(text, start, family, counts, options.skipped),
  );
  return counts;
}

type Consume = (text: string, start: number) => number;

async function forEachFile(
  options: ReadOptions,
  consumer: (family: 4 | 6) => Consume,
): Promise<void> {
  const root = options.procRoot ?? '/proc';
  const files = [`${root}/net/tcp`, `${root}/net/tcp6`] as const;
  const read = options.blocking ? readWhole : streamLines;
  const results = await Promise.allSettled([
    read(files[0], consumer(4)),
    read(files[1], consumer(6)),
  ]);
  const failures = results.filter((r) => r.status === 'rejected');
  options.skipped.unreadableFiles += failures.length;
  if (failures.length === files.length) {
    throw new WatchProcUnreadableError(
      files.join(' and '),
      (failures[0] as PromiseRejectedResult).reason,
    );
  }
}

/** Reads the whole file with blocking reads, then hands `consume` its lines after the header. */
async function readWhole(path: string, consume: Consume): Promise<void> {
  const fd = openSync(path, 'r');
  let buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  let length = 0;
  try {
    for (;;) {
      if (buffer.length - length < 65_536) {
        const bigger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(bigger, 0, 0, length);
        buffer = bigger;
      }
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
  } finally {
    closeSync(fd);
  }
  let text = buffer.toString('latin1', 0, length);
  if (length > 0 && buffer[length - 1] !== 10) text += '\n';
  const start = text.indexOf('\n') + 1;
  if (start > 0) consume(text, start);
}

/** Hands `consume` the complete lines of a file after its header, chunk by chunk. */
async function streamLines(path: string, consume: Consume): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const buffers = [Buffer.allocUnsafe(CHUNK_BYTES), Buffer.allocUnsafe(CHUNK_BYTES)];
    let turn = 0;
    let pending = handle.read(buffers[0]!, 0, CHUNK_BYTES, null);
    let carry = '';
    let inHeader = true;
    for (;;) {
      const { bytesRead, buffer } = await pending;
      if (bytesRead === 0) break;
      turn ^= 1;
      pending = handle.read(buffers[turn]!, 0, CHUNK_BYTES, null);
      const text = carry + buffer.toString('latin1', 0, bytesRead);
      let start = 0;
      if (inHeader) {
        start = text.indexOf('\n') + 1;
        if (start === 0) {
          carry = text;
          continue;
        }
        inHeader = false;
      }
      carry = text.slice(consume(text, start));
    }
    if (carry.length > 0 && !inHeader) consume(`${carry}\n`, 0);
  } finally {
    await handle.close();
  }
}
