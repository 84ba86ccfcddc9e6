/** The watcher's errors (prefix WATCH_); each is listed in docs/errors.md. */
import { constants } from 'node:os';
import { KeepwireError } from '../errors.ts';

export class WatchProcUnreadableError extends KeepwireError {
  constructor(files: string, cause: unknown) {
    super(
      'WATCH_PROC_UNREADABLE',
      `cannot read ${files}: is /proc mounted? Inside a container, mount the host's /proc or run with the host network namespace`,
      { cause, status: 503 },
    );
  }
}

export class WatchSsUnavailableError extends KeepwireError {
  constructor(command: string, cause: unknown) {
    super(
      'WATCH_SS_UNAVAILABLE',
      `"${command}" was not found; install iproute2 (apt-get install iproute2) or let Keepwire read /proc instead`,
      { cause, status: 503 },
    );
  }
}

export class WatchSsFailedError extends KeepwireError {
  constructor(commandLine: string, stderr: string, cause: unknown) {
    super(
      'WATCH_SS_FAILED',
      `"${commandLine}" failed: ${stderr.trim() || (cause as Error).message}; Keepwire falls back to /proc`,
      { cause, status: 503, retryable: true },
    );
  }
}

export class WatchSamplingError extends KeepwireError {
  constructor(cause: unknown) {
    super(
      'WATCH_SAMPLING_FAILED',
      `sampling TCP sockets failed: ${(cause as Error)?.message ?? cause}; the watcher keeps its last sample and retries on the next interval`,
      { cause, status: 503, retryable: true },
    );
  }
}

export class WatchNoSamplesError extends KeepwireError {
  constructor() {
    super(
      'WATCH_NO_SAMPLES',
      'the watcher has not taken a sample yet; retry after watch.intervalMs',
      { status: 503, retryable: true },
    );
  }
}

export class WatchNetlinkFailedError extends KeepwireError {
  /** The errno the kernel answered with, when it answered one (-1: cut short). */
  readonly errno: number | undefined;

  constructor(reason: string, errno?: number) {
    super(
      'WATCH_NETLINK_FAILED',
      `the kernel's socket dump ("ss -tan -D -") failed: ${reason}; Keepwire falls back to /proc`,
      { status: 503, retryable: true },
    );
    this.errno = errno;
  }

  static fromErrno(errno: number): WatchNetlinkFailedError {
    const name = Object.entries(constants.errno).find(([, n]) => n === errno)?.[0];
    return new WatchNetlinkFailedError(`the kernel answered ${name ?? 'errno'} (${errno})`, errno);
  }
}
