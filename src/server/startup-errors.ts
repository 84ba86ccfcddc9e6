/**
 * System errors at start-up turned into one line that says what to do: a
 * port in use, a socket directory that is missing or not writable, a socket
 * path too long for the kernel, a data directory that cannot be made. The
 * CLI prints a KeepwireError's message alone (no stack) and exits 1.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { KeepwireError } from '../errors.ts';

/** Linux keeps 108 bytes for a socket path, the terminating NUL included. */
export const MAX_SOCKET_PATH_BYTES = 107;

export class StartupError extends KeepwireError {
  constructor(message: string, cause?: unknown) {
    super('STARTUP_FAILED', message, { cause });
  }
}

/**
 * mkdir -p, one level at a time: Node's recursive mkdir loops for ever (and
 * blocks SIGTERM) where mkdir of a child answers ENOENT under a parent that
 * exists, as in /proc.
 */
export function makeDataDirectory(path: string, mode = 0o750): void {
  const missing: string[] = [];
  let at = resolve(path);
  while (!existsSync(at)) {
    missing.unshift(at);
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  if (missing.length === 0 && !statSync(at).isDirectory()) {
    throw new StartupError(
      `the data directory ${path} exists and is not a directory; choose another --data-dir`,
    );
  }
  for (const dir of missing) {
    try {
      mkdirSync(dir, { mode });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && statSync(dir).isDirectory()) continue;
      throw new StartupError(
        `cannot create the data directory ${path} (${code ?? (error as Error).message} at ${dir}); choose another --data-dir (dataDir) or create it with write access for this user`,
        error,
      );
    }
  }
}

/** Checks a Unix socket path before binding it, so each fault is named as what it is. */
export function checkSocketPath(path: string): void {
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new StartupError(
      `the socket path ${path} is ${bytes} bytes; Unix sockets take at most ${MAX_SOCKET_PATH_BYTES}: choose a shorter --socket path (socket.path)`,
    );
  }
  const dir = dirname(resolve(path));
  if (!existsSync(dir)) {
    throw new StartupError(
      `the socket directory ${dir} does not exist; create it or choose another --socket path (socket.path)`,
    );
  }
}

/** A listen() failure as one line naming the address and what to do; others pass through. */
export function explainListenError(error: unknown, what: string): unknown {
  const failure = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (failure?.syscall !== 'listen' && failure?.syscall !== 'bind') return error;
  const where =
    failure.port === undefined || failure.port === -1
      ? (failure.address ?? what)
      : `${failure.address}:${failure.port}`;
  switch (failure.code) {
    case 'EADDRINUSE':
      return new StartupError(
        `${what} ${where} is already in use (another keepwire serve, or another program: ss -ltnp); stop it or choose another address`,
        error,
      );
    case 'EADDRNOTAVAIL':
      return new StartupError(
        `${what} ${where} is not an address of this host; listen on 127.0.0.1 or an address the host has`,
        error,
      );
    case 'EACCES':
    case 'EPERM':
      return new StartupError(
        failure.port === undefined || failure.port === -1
          ? `${what} ${where}: permission denied; make its directory writable for this user or choose another --socket path`
          : `${what} ${where}: permission denied (ports below 1024 need privileges); choose a port from 1024`,
        error,
      );
    default:
      return new StartupError(`${what} ${where}: ${failure.message}`, error);
  }
}
