/**
 * Reads every TCP socket from /proc/net/tcp and /proc/net/tcp6, both files in
 * parallel. A missing or unreadable file (IPv6 disabled) is counted, not fatal,
 * unless neither can be read.
 */
import { readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { WatchProcUnreadableError } from './errors.ts';
import { ProcNetParser, type StateMask } from './proc-net-parser.ts';
import type { SkipCounts, TcpSocket } from './socket.ts';

export async function readProcSockets(options: {
  procRoot?: string;
  mask?: StateMask;
  skipped: SkipCounts;
}): Promise<TcpSocket[]> {
  const root = options.procRoot ?? '/proc';
  const files = [`${root}/net/tcp`, `${root}/net/tcp6`] as const;
  const texts = await Promise.all(
    files.map((file) => readFile(file, 'latin1').catch((error: NodeJS.ErrnoException) => error)),
  );
  const parser = new ProcNetParser({ littleEndian: endianness() === 'LE' });
  const sockets: TcpSocket[] = [];
  let failures = 0;
  texts.forEach((text, index) => {
    if (typeof text !== 'string') {
      failures += 1;
      options.skipped.unreadableFiles += 1;
      return;
    }
    parser.parse(text, index === 0 ? 4 : 6, sockets, options.skipped, options.mask);
  });
  if (failures === files.length) {
    throw new WatchProcUnreadableError(files.join(' and '), texts[0] as Error);
  }
  return sockets;
}
