/**
 * Reads TCP sockets from the kernel's netlink socket dump, through
 * `ss -tan [state NAME ...] -D -`: ss asks NETLINK_SOCK_DIAG for every TCP
 * socket (the kernel filters by state) and copies the kernel's binary answer
 * to its stdout without formatting a line of text. At 50,000 sockets that
 * costs about half of `ss -tan` and less than reading /proc/net/tcp*, whose
 * text the kernel formats one 4 KB page per read() (docs/benchmarks.md).
 * netlink-parser.ts decodes the bytes.
 *
 * ss writes into an unlinked temporary file rather than a pipe: a pipe holds
 * 64 KB, and ss would stall on it while the caller's thread is busy scanning
 * /proc/PID/fd (takeSnapshot overlaps the two). Where no temporary file can be
 * created it falls back to a pipe.
 *
 * ss exits 0 even when the kernel refuses the dump (it reports that inside the
 * dump, as NLMSG_ERROR), so a dump is trusted only when both of its parts,
 * IPv4 and IPv6, ended with NLMSG_DONE.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync, unlinkSync } from 'node:fs';
import { endianness, tmpdir } from 'node:os';
import { WatchNetlinkFailedError, WatchSsFailedError, WatchSsUnavailableError } from './errors.ts';
import { columnsFor, NetlinkDumpParser, type SocketColumns } from './netlink-parser.ts';
import { emptySkipCounts, type SkipCounts, type TcpSocket } from './socket.ts';
import { SS_FILTER_NAME, type TcpState } from './tcp-state.ts';

/** ss dumps AF_INET, then AF_INET6. */
const DUMPS = 2;
const TIMEOUT_MS = 30_000;

export function netlinkArguments(states?: readonly TcpState[]): string[] {
  const args = ['-tan', '-D', '-'];
  for (const state of states ?? []) args.push('state', SS_FILTER_NAME[state]);
  return args;
}

export interface DumpOptions {
  states?: readonly TcpState[];
  ssPath?: string;
}

/**
 * Starts `ss ... -D -` at once and resolves with its whole output. Never
 * throws; rejects when ss is missing (WATCH_SS_UNAVAILABLE) or fails
 * (WATCH_SS_FAILED).
 */
export function startNetlinkDump(options: DumpOptions = {}): Promise<Buffer> {
  const command = options.ssPath ?? 'ss';
  const args = netlinkArguments(options.states);
  const commandLine = `${command} ${args.join(' ')}`;
  let file = openUnlinkedFile();
  let timer: NodeJS.Timeout | undefined;
  const release = () => {
    clearTimeout(timer);
    if (file !== undefined) closeSync(file);
    file = undefined;
  };
  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      stdio: ['ignore', file ?? 'pipe', 'pipe'],
      env: { PATH: process.env.PATH },
    });
  } catch (error) {
    release();
    const failed = Promise.reject(error);
    failed.catch(() => {}); // the caller awaits it
    return failed;
  }
  // Not spawn's own `timeout`: its timer outlives a child that never started.
  timer = setTimeout(() => child.kill(), TIMEOUT_MS).unref();
  const chunks: Buffer[] = [];
  let stderr = '';
  const result = new Promise<Buffer>((resolve, reject) => {
    // First, before any stdio: a spawn that failed (EMFILE when the descriptor
    // limit is reached) has no stdio streams and reports through 'error' only.
    child.once('error', (error: NodeJS.ErrnoException) => {
      release();
      reject(
        error.code === 'ENOENT'
          ? new WatchSsUnavailableError(command, error)
          : new WatchSsFailedError(commandLine, stderr, error),
      );
    });
    child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr?.setEncoding('latin1').on('data', (text: string) => {
      stderr += text;
    });
    child.once('close', (code, signal) => {
      try {
        if (code !== 0) {
          const how = signal === null ? `exit code ${code}` : `signal ${signal}`;
          throw new WatchSsFailedError(commandLine, stderr, new Error(`ss ended with ${how}`));
        }
        resolve(file === undefined ? Buffer.concat(chunks) : readWhole(file));
      } catch (error) {
        reject(error);
      } finally {
        release();
      }
    });
  });
  result.catch(() => {}); // awaited by the caller later; never an unhandled rejection meanwhile
  return result;
}

export async function readNetlinkSockets(
  options: DumpOptions & { skipped: SkipCounts; dump?: Promise<Buffer> },
): Promise<TcpSocket[]> {
  return readDump(options, (parser, bytes, skipped) => {
    const sockets: TcpSocket[] = [];
    return { value: sockets, dumps: parser.parse(bytes, sockets, skipped) };
  });
}

/** The sockets as columns (state, inode, ports): `--by process` builds no object per socket. */
export async function readNetlinkColumns(
  options: DumpOptions & { skipped: SkipCounts; dump?: Promise<Buffer> },
): Promise<SocketColumns> {
  return readDump(options, (parser, bytes, skipped) => {
    const columns = columnsFor(bytes.length);
    return { value: columns, dumps: parser.columns(bytes, columns, skipped) };
  });
}

/** Counts per kernel state number (index 1..11) from the state byte alone. */
export async function countNetlinkStates(
  options: DumpOptions & { skipped: SkipCounts },
): Promise<Float64Array> {
  return readDump(options, (parser, bytes, skipped) => {
    const counts = new Float64Array(12);
    return { value: counts, dumps: parser.count(bytes, counts, skipped) };
  });
}

/** Waits for the dump (or starts one), decodes it, and trusts it only when complete. */
async function readDump<T>(
  options: DumpOptions & { skipped: SkipCounts; dump?: Promise<Buffer> },
  decode: (
    parser: NetlinkDumpParser,
    bytes: Buffer,
    skipped: SkipCounts,
  ) => { value: T; dumps: number },
): Promise<T> {
  const bytes = await (options.dump ?? startNetlinkDump(options));
  const skipped = emptySkipCounts();
  const parser = new NetlinkDumpParser({ littleEndian: endianness() === 'LE' });
  const { value, dumps } = decode(parser, bytes, skipped);
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

/** A temporary file already unlinked: nothing to clean up, whatever happens. */
function openUnlinkedFile(): number | undefined {
  const path = `${tmpdir()}/keepwire-ss-${process.pid}-${Math.random().toString(36).slice(2)}`;
  let fd: number | undefined;
  try {
    fd = openSync(path, 'wx+', 0o600);
    unlinkSync(path);
    return fd;
  } catch {
    if (fd !== undefined) closeSync(fd);
    return undefined;
  }
}

function readWhole(fd: number): Buffer {
  const size = fstatSync(fd).size;
  const bytes = Buffer.allocUnsafe(size);
  let length = 0;
  while (length < size) {
    const n = readSync(fd, bytes, length, size - length, length);
    if (n === 0) break;
    length += n;
  }
  return bytes.subarray(0, length);
}
