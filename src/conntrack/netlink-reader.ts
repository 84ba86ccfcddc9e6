/**
 * Reads TCP sockets from the kernel's netlink socket dump (`ss -tan -D -`,
 * started by netlink-dump.ts): at 50,000 sockets that costs about half of
 * `ss -tan` and less than reading /proc/net/tcp*, whose text the kernel
 * formats one 4 KB page per read() (docs/benchmarks.md). netlink-parser.ts
 * decodes the bytes.
 *
 * ss exits 0 even when the kernel refuses the dump (it reports that inside the
 * dump, as NLMSG_ERROR), so a dump is trusted only when both of its parts,
 * IPv4 and IPv6, ended with NLMSG_DONE.
 */
import { endianness } from 'node:os';
import { WatchNetlinkFailedError } from './errors.ts';
import { type DumpOptions, type NetlinkDump, startNetlinkDump } from './netlink-dump.ts';
import { columnsFor, NetlinkDumpParser, type SocketColumns } from './netlink-parser.ts';
import { emptySkipCounts, type SkipCounts, type TcpSocket } from './socket.ts';

/**
 * What to read: a dump already started (startNetlinkDump, with the
 * same states), or one to start now.
 */
export type DumpRead = DumpOptions & { skipped: SkipCounts; dump?: Promise<NetlinkDump> };

/** ss dumps AF_INET, then AF_INET6. */
const DUMPS = 2;

export async function readNetlinkSockets(options: DumpRead): Promise<TcpSocket[]> {
  return readDump(
    options,
    (): TcpSocket[] => [],
    (parser, piece, sockets, skipped) => parser.parse(piece, sockets, skipped),
  );
}

/** The sockets as columns (state, inode, ports): `--by process` builds no object per socket. */
export async function readNetlinkColumns(options: DumpRead): Promise<SocketColumns> {
  return readDump(options, columnsFor, (parser, piece, columns, skipped) =>
    parser.columns(piece, columns, skipped),
  );
}

/** Counts per kernel state number (index 1..11) from the state byte alone. */
export async function countNetlinkStates(options: DumpRead): Promise<Float64Array> {
  return readDump(
    options,
    () => new Float64Array(12),
    (parser, piece, counts, skipped) => parser.count(piece, counts, skipped),
  );
}

/**
 * Waits for the dump (or starts one), decodes it piece by piece into what
 * `start(size in bytes)` made, and trusts it only when complete.
 */
async function readDump<T>(
  options: DumpRead,
  start: (size: number) => T,
  decode: (parser: NetlinkDumpParser, piece: Uint8Array, value: T, skipped: SkipCounts) => number,
): Promise<T> {
  const dump = await (options.dump ?? startNetlinkDump(options));
  const skipped = emptySkipCounts();
  const parser = new NetlinkDumpParser({ littleEndian: endianness() === 'LE' });
  const value = start(dump.size);
  let dumps = 0;
  for (const piece of dump.pieces()) dumps += decode(parser, piece, value, skipped);
  checkComplete(dumps);
  options.skipped.malformedMessages += skipped.malformedMessages;
  return value;
}

/** Throws unless both dumps (IPv4, IPv6) ended: a dump cut short is not to be trusted. */
export function checkComplete(dumps: number): void {
  if (dumps < DUMPS)
    throw new WatchNetlinkFailedError(
      `only ${dumps} of its ${DUMPS} parts (IPv4, IPv6) ended with NLMSG_DONE (an ss without -D, or no netlink here?)`,
    );
}
