/**
 * Starts the kernel's netlink socket dump through `ss -tan [state NAME ...]
 * -D -`: ss asks NETLINK_SOCK_DIAG for every TCP socket (the kernel filters
 * by state) and copies the kernel's binary answer to its stdout without
 * formatting a line of text. netlink-reader.ts decodes it.
 *
 * A module of its own, with nothing heavy behind it, so that a one-shot
 * command can start ss before it loads the parser and the rest: the dump then
 * runs while those modules load (cli/sockets.ts).
 *
 * ss writes into an unlinked temporary file rather than a pipe: a pipe holds
 * 64 KB, and ss would stall on it while the caller's thread is busy scanning
 * /proc/PID/fd (takeSnapshot overlaps the two). Where no temporary file can be
 * created it falls back to a pipe.
 *
 * The dump is handed over as the file, read in pieces of whole messages
 * through one small buffer, not as one Buffer: at 50,000 sockets the dump is
 * 5.5 MB, and on a virtual machine the page faults of a fresh 5.5 MB buffer
 * cost more than decoding it (17 ms against 1.3 ms to read it in 256 KB
 * pieces, docs/conntrack.md).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync, unlinkSync } from 'node:fs';
import { endianness, tmpdir } from 'node:os';
import { WatchSsFailedError, WatchSsUnavailableError } from './errors.ts';
import { SS_FILTER_NAME, type TcpState } from './tcp-state.ts';

const TIMEOUT_MS = 30_000;
/** How much of a dump is read at a time. */
const PIECE_BYTES = 256 * 1024;
const HEADER_BYTES = 16;

export function netlinkArguments(states?: readonly TcpState[]): string[] {
  const args = ['-tan', '-D', '-'];
  for (const state of states ?? []) args.push('state', SS_FILTER_NAME[state]);
  return args;
}

export interface DumpOptions {
  states?: readonly TcpState[];
  ssPath?: string;
}

/** A finished dump, to be read once, in order. */
export interface NetlinkDump {
  /** Its length in bytes. */
  readonly size: number;
  /**
   * The dump in pieces that each end where a message ends (the last one
   * where the dump ends); a piece is valid until the next is asked for.
   */
  pieces(): Generator<Uint8Array>;
}

/**
 * Starts `ss ... -D -` at once and resolves with its output once ss exited.
 * Never throws; rejects when ss is missing (WATCH_SS_UNAVAILABLE) or fails
 * (WATCH_SS_FAILED).
 */
export function startNetlinkDump(options: DumpOptions = {}): Promise<NetlinkDump> {
  return runDump(options, (take, chunks) => {
    const file = take();
    if (file === undefined) {
      const bytes = Buffer.concat(chunks);
      return {
        size: bytes.length,
        *pieces() {
          yield bytes;
        },
      };
    }
    return { size: fstatSync(file).size, pieces: () => readPieces(file) };
  });
}

/**
 * Spawns ss and, once it exited well, resolves with `finish` of its output:
 * the temporary file, which `take()` hands over (and the caller then closes),
 * or the chunks read from the pipe.
 */
function runDump<T>(
  options: DumpOptions,
  finish: (take: () => number | undefined, chunks: Buffer[]) => T,
): Promise<T> {
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
  const take = () => {
    const taken = file;
    file = undefined;
    return taken;
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
  const result = new Promise<T>((resolve, reject) => {
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
        resolve(finish(take, chunks));
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

/**
 * The file in pieces of whole netlink messages (u32 length first, in host
 * order; each message padded to 4 bytes), through one buffer that grows only
 * for a message larger than it. A length that cannot be right (shorter than
 * a header) ends the pieces there: the parser reports it as malformed and
 * reads no further, as it would in one Buffer. Closes the file when done.
 */
export function* readPieces(file: number, pieceBytes = PIECE_BYTES): Generator<Uint8Array> {
  const littleEndian = endianness() === 'LE';
  let buffer = Buffer.allocUnsafe(pieceBytes);
  let filled = 0;
  let position = 0;
  try {
    for (;;) {
      const n = readSync(file, buffer, filled, buffer.length - filled, position);
      position += n;
      filled += n;
      if (n === 0) {
        if (filled > 0) yield buffer.subarray(0, filled);
        return;
      }
      let end = 0;
      let broken = false;
      while (filled - end >= HEADER_BYTES) {
        const length = littleEndian ? buffer.readUInt32LE(end) : buffer.readUInt32BE(end);
        if (length < HEADER_BYTES) {
          broken = true;
          break;
        }
        const next = end + ((length + 3) & ~3);
        if (next > filled) {
          if (end === 0 && next > buffer.length) {
            const larger = Buffer.allocUnsafe(next);
            buffer.copy(larger, 0, 0, filled);
            buffer = larger;
          }
          break;
        }
        end = next;
      }
      if (broken) {
        yield buffer.subarray(0, filled);
        return;
      }
      if (end === 0) continue;
      yield buffer.subarray(0, end);
      buffer.copy(buffer, 0, end, filled);
      filled -= end;
    }
  } finally {
    closeSync(file);
  }
}

/** A temporary file already unlinked (ss's dump goes there): nothing to clean up, whatever happens. */
export function openUnlinkedFile(): number | undefined {
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
