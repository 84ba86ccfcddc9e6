/**
 * One TCP socket as Keepwire reports it, and a snapshot of all of them. Both
 * are plain data: JSON-serialisable, the same whichever backend read them.
 */
import type { TcpState } from './tcp-state.ts';

export interface TcpSocket {
  family: 4 | 6;
  state: TcpState;
  /** IPv4 dotted quad or IPv6 text; IPv4-mapped IPv6 addresses are decoded to IPv4. */
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** Bytes not yet acknowledged by the peer (LISTEN: 0, or the backlog from `ss`). */
  txQueue: number;
  /** Bytes not yet read by the application (LISTEN: connections waiting for accept()). */
  rxQueue: number;
  /** Kernel timer: 0 none, 1 retransmit, 2 keepalive, 3 TIME_WAIT, 4 zero-window probe. */
  timer: number;
  retransmits: number;
  uid: number;
  /** Socket inode; 0 for TIME_WAIT and SYN_RECV mini-sockets, which no process holds. */
  inode: number;
  /** LISTEN sockets read through `ss`: the accept backlog the application asked for. */
  backlog?: number;
  /** Set when attribution was asked for and a process holds the socket. */
  pid?: number;
  process?: string;
  /** File descriptor number in that process. */
  fd?: number;
  /**
   * ctime of /proc/PID/fd/FD in ms since the epoch, read for CLOSE_WAIT sockets
   * during diagnosis. The kernel creates that inode when the link is first
   * looked up, after the process opened the fd: the process has held the socket
   * at least since then. It says nothing about when CLOSE_WAIT began.
   */
  heldSince?: number;
}

/** What was skipped, never silently: each count is a line, file or process left out. */
export interface SkipCounts {
  /** /proc/net/tcp* lines or `ss` lines that did not parse. */
  malformedLines: number;
  /** Netlink messages from `ss -D` that were cut off or did not parse. */
  malformedMessages: number;
  /** /proc/net/tcp* files that could not be read (e.g. IPv6 disabled). */
  unreadableFiles: number;
  /** Processes that exited between listing /proc and reading their fds. */
  vanishedProcesses: number;
  /** fd directories or links we could not read (permissions, races). */
  unreadableFds: number;
}

/** The backends: /proc/net/tcp*, `ss` text, `ss -D` binary netlink dump. */
export type SocketSource = 'proc' | 'ss' | 'netlink';

export interface SocketSnapshot {
  /** Wall-clock time of the read, in ms since the epoch. */
  takenAt: number;
  /** Which backend read the sockets. */
  source: SocketSource;
  /** Whether process attribution ran. */
  attributed: boolean;
  /** The states asked for; undefined means every state. */
  states?: TcpState[];
  sockets: TcpSocket[];
  skipped: SkipCounts;
  /** Every socket the kernel had, by state, where `sockets` holds some states as read earlier (`carried`). */
  counts?: Record<TcpState, number>;
  /**
   * `keepwire serve`'s light samples: the sockets of these states in
   * `sockets` are as the full sample at `takenAt` read them (their counts
   * are this sample's).
   */
  carried?: { states: TcpState[]; takenAt: number };
}

export function emptySkipCounts(): SkipCounts {
  return {
    malformedLines: 0,
    malformedMessages: 0,
    unreadableFiles: 0,
    vanishedProcesses: 0,
    unreadableFds: 0,
  };
}

/** `ip:port`, with IPv6 in brackets as URLs and `ss` write it. */
export function formatEndpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
