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
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { WatchSsFailedError, WatchSsUnavailableError } from './errors.ts';
import { SS_FILTER_NAME, type TcpState } from './tcp-state.ts';

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
