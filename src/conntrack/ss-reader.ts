/**
 * Reads TCP sockets by running `ss -tanHeo` (netlink). With a state filter the
 * kernel does the filtering, which makes questions about one state (CLOSE_WAIT)
 * an order of magnitude cheaper than reading all of /proc/net/tcp*.
 */
import { execFile } from 'node:child_process';
import { WatchSsFailedError, WatchSsUnavailableError } from './errors.ts';
import type { SkipCounts, TcpSocket } from './socket.ts';
import { parseSsOutput } from './ss-parser.ts';
import { SS_FILTER_NAME, type TcpState } from './tcp-state.ts';

export function ssArguments(states?: readonly TcpState[]): string[] {
  const args = ['-tanHeo'];
  for (const state of states ?? []) args.push('state', SS_FILTER_NAME[state]);
  return args;
}

export function readSsSockets(options: {
  states?: readonly TcpState[];
  skipped: SkipCounts;
  ssPath?: string;
}): Promise<TcpSocket[]> {
  const command = options.ssPath ?? 'ss';
  const args = ssArguments(options.states);
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { encoding: 'latin1', maxBuffer: 1 << 30, env: { LC_ALL: 'C', PATH: process.env.PATH } },
      (error, stdout, stderr) => {
        if (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') reject(new WatchSsUnavailableError(command, error));
          else reject(new WatchSsFailedError(`${command} ${args.join(' ')}`, stderr, error));
          return;
        }
        const sockets: TcpSocket[] = [];
        const only = options.states?.length === 1 ? options.states[0] : undefined;
        parseSsOutput(stdout, sockets, options.skipped, only);
        resolve(sockets);
      },
    );
  });
}
