/**
 * Parses the binary socket dump `ss -tan -D -` writes: iproute2 (misc/ss.c,
 * lib/libnetlink.c rtnl_dump_filter_l) copies every buffer recvmsg() returned
 * from the kernel's NETLINK_SOCK_DIAG socket to stdout, before and instead of
 * formatting any text. ss dumps AF_INET, then AF_INET6: two dumps.
 *
 * The stream is a sequence of netlink messages, each starting on a 4-byte
 * boundary (NLMSG_ALIGN). Integers are in host byte order unless marked be
 * (include/uapi/linux/netlink.h, inet_diag.h):
 *
 *   nlmsghdr, 16 bytes: u32 len (header included), u16 type, u16 flags, u32 seq, u32 pid
 *   type 20, SOCK_DIAG_BY_FAMILY: inet_diag_msg, 72 bytes, then rtattrs up to len (unused)
 *      0 u8 family (2 AF_INET, 10 AF_INET6)  1 u8 state  2 u8 timer  3 u8 retrans
 *      4 be16 sport  6 be16 dport  8 be32 src[4]  24 be32 dst[4]  40 u32 if  44 u32 cookie[2]
 *     52 u32 expires (ms)  56 u32 rqueue  60 u32 wqueue  64 u32 uid  68 u32 inode
 *   type 3, NLMSG_DONE: ends one dump; an int payload below 0 is the errno of a failed dump
 *   type 2, NLMSG_ERROR: int error (minus an errno; 0 is an acknowledgement), then the request's header
 *
 * What the fields mean (net/ipv4/inet_diag.c, tcp_diag.c), against /proc/net/tcp:
 * - timer: the same codes as /proc's "tr": 0 none, 1 retransmit (or loss probe;
 *   SYN_RECV always), 2 sk_timer (keepalive, FIN_WAIT2), 3 TIME_WAIT, 4 zero-window probe.
 * - retrans: with timer 1, the retransmits (as /proc); with timer 2 or 4 the
 *   unanswered probes (/proc prints the retransmits there); 0 without a timer.
 * - LISTEN: rqueue is the accept queue (/proc's rx_queue), wqueue the backlog
 *   the application asked for: reported as `backlog`, with txQueue 0, as the
 *   `ss` text backend does.
 * - TIME_WAIT and SYN_RECV mini-sockets: uid and inode 0 (/proc shows the
 *   listener's uid for SYN_RECV).
 * - IPv4-mapped IPv6 addresses become plain IPv4, family stays 6 (as /proc).
 *
 * Bad bytes never throw: a message cut off by the end of the stream, or with
 * a length shorter than its header, ends the walk; a socket message too short
 * or with an unknown family or state, and a message of an unknown type, are
 * skipped. Each counts one in `malformedMessages`. What the kernel reports as
 * failed (NLMSG_ERROR, or NLMSG_DONE with an errno) throws
 * WatchNetlinkFailedError: such a dump is not to be trusted.
 */
import { WatchNetlinkFailedError } from './errors.ts';
import { formatIpv6 } from './ipv6-text.ts';
import type { SkipCounts, TcpSocket } from './socket.ts';
import { STATE_BY_NUMBER } from './tcp-state.ts';

const HEADER_BYTES = 16;
const DIAG_MSG_BYTES = 72;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const SOCK_DIAG_BY_FAMILY = 20;
const AF_INET = 2;
const AF_INET6 = 10;
const LISTEN = 10;

/** Sockets as columns: state number (1..11), inode, local and remote port. */
export interface SocketColumns {
  length: number;
  states: Uint8Array;
  inodes: Uint32Array;
  localPorts: Uint16Array;
  remotePorts: Uint16Array;
}

/** Columns with room for every socket message `bytes` of dump can hold. */
export function columnsFor(bytes: number): SocketColumns {
  const room = Math.floor(bytes / (HEADER_BYTES + DIAG_MSG_BYTES));
  return {
    length: 0,
    states: new Uint8Array(room),
    inodes: new Uint32Array(room),
    localPorts: new Uint16Array(room),
    remotePorts: new Uint16Array(room),
  };
}

/** Sockets of an earlier sample by inode (a Map will do). */
export interface SocketLookup {
  get(inode: number): TcpSocket | undefined;
}

/** parseReusing's state filter, indexed by kernel state number (1..11). */
export interface StateFilter {
  /** 1 for a state whose sockets become objects, 0 for one only counted. */
  wanted: Uint8Array;
  /** Every socket of the dump, counted by state number. */
  counts: Float64Array;
}

export class NetlinkDumpParser {
  readonly #littleEndian: boolean;
  readonly #v4 = new Map<number, string>();
  readonly #v6 = new Map<string, string>();

  constructor(options: { littleEndian: boolean }) {
    this.#littleEndian = options.littleEndian;
  }

  /** Appends every socket of the dump to `out`; returns how many dumps ended (NLMSG_DONE). */
  parse(bytes: Uint8Array, out: TcpSocket[], skipped: SkipCounts): number {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return this.#walk(bytes, view, skipped, (at, family, state) => {
      out.push(this.#socket(bytes, view, at, family, state));
    });
  }

  /**
   * parse(), keeping the objects of an earlier sample (`keepwire serve`): a
   * socket whose inode is in `earlier` and whose message still says what that
   * object says (state, ports, queues, timer, retransmits, uid) is pushed as
   * that object, with whatever attribution it carries, instead of a new one.
   * At 50,000 mostly idle sockets that spares nearly every allocation. The
   * addresses are not compared: a socket's addresses are fixed for as long as
   * its state and ports are. Objects are never changed here; a caller that
   * keeps them across samples must copy before changing one.
   *
   * With `only`, every socket is counted by state in `only.counts` and only
   * those whose state `only.wanted` marks become objects: serve's light
   * samples count 50,000 ESTABLISHED sockets without building one.
   */
  parseReusing(
    bytes: Uint8Array,
    earlier: SocketLookup,
    out: TcpSocket[],
    skipped: SkipCounts,
    only?: StateFilter,
  ): number {
    const le = this.#littleEndian;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return this.#walk(bytes, view, skipped, (at, family, state) => {
      if (only !== undefined) {
        only.counts[state]! += 1;
        if (only.wanted[state] === 0) return;
      }
      const inode = view.getUint32(at + 68, le);
      const old = inode === 0 ? undefined : earlier.get(inode);
      if (old !== undefined && this.#isSame(old, bytes, view, at, family, state)) out.push(old);
      else out.push(this.#socket(bytes, view, at, family, state));
    });
  }

  #isSame(
    old: TcpSocket,
    bytes: Uint8Array,
    view: DataView,
    at: number,
    family: number,
    state: number,
  ): boolean {
    const le = this.#littleEndian;
    const isListen = state === LISTEN;
    const wqueue = view.getUint32(at + 60, le);
    return (
      old.state === STATE_BY_NUMBER[state] &&
      old.family === (family === AF_INET ? 4 : 6) &&
      old.localPort === ((bytes[at + 4]! << 8) | bytes[at + 5]!) &&
      old.remotePort === ((bytes[at + 6]! << 8) | bytes[at + 7]!) &&
      old.rxQueue === view.getUint32(at + 56, le) &&
      (isListen ? old.backlog === wqueue : old.txQueue === wqueue) &&
      old.timer === bytes[at + 2] &&
      old.retransmits === bytes[at + 3] &&
      old.uid === view.getUint32(at + 64, le)
    );
  }

  /**
   * The counting fast path: adds one to `counts[state number]` per socket,
   * reading nothing but the state byte. Returns how many dumps ended.
   */
  count(bytes: Uint8Array, counts: Float64Array, skipped: SkipCounts): number {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return this.#walk(bytes, view, skipped, (_at, _family, state) => {
      counts[state]! += 1;
    });
  }

  /**
   * The attribution fast path (`--by process`): per socket its state number,
   * inode and ports only, appended to `out`; no object, no address text.
   * Returns how many dumps ended.
   */
  columns(bytes: Uint8Array, out: SocketColumns, skipped: SkipCounts): number {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const le = this.#littleEndian;
    return this.#walk(bytes, view, skipped, (at, _family, state) => {
      const n = out.length++;
      out.states[n] = state;
      out.inodes[n] = view.getUint32(at + 68, le);
      out.localPorts[n] = (bytes[at + 4]! << 8) | bytes[at + 5]!;
      out.remotePorts[n] = (bytes[at + 6]! << 8) | bytes[at + 7]!;
    });
  }

  /** Calls `visit` with the payload offset of each well-formed socket message. */
  #walk(
    bytes: Uint8Array,
    view: DataView,
    skipped: SkipCounts,
    visit: (at: number, family: number, state: number) => void,
  ): number {
    const le = this.#littleEndian;
    const end = bytes.length;
    let dumps = 0;
    let at = 0;
    while (at < end) {
      if (end - at < HEADER_BYTES) {
        skipped.malformedMessages += 1;
        break;
      }
      const length = view.getUint32(at, le);
      if (length < HEADER_BYTES || length > end - at) {
        skipped.malformedMessages += 1; // nothing after it can be found again
        break;
      }
      const type = view.getUint16(at + 4, le);
      const payload = at + HEADER_BYTES;
      if (type === SOCK_DIAG_BY_FAMILY) {
        const family = bytes[payload]!;
        const state = bytes[payload + 1]!;
        if (
          length < HEADER_BYTES + DIAG_MSG_BYTES ||
          (family !== AF_INET && family !== AF_INET6) ||
          STATE_BY_NUMBER[state] === undefined
        )
          skipped.malformedMessages += 1;
        else visit(payload, family, state);
      } else if (type === NLMSG_DONE) {
        const status = length >= HEADER_BYTES + 4 ? view.getInt32(payload, le) : 0;
        if (status < 0) throw WatchNetlinkFailedError.fromErrno(-status);
        dumps += 1;
      } else if (type === NLMSG_ERROR) {
        // 0 acknowledges a request; an error cut short is still an error.
        const errno = length >= HEADER_BYTES + 4 ? -view.getInt32(payload, le) : -1;
        if (errno !== 0) throw WatchNetlinkFailedError.fromErrno(errno);
      } else skipped.malformedMessages += 1;
      at += (length + 3) & ~3;
    }
    return dumps;
  }

  #socket(bytes: Uint8Array, view: DataView, at: number, family: number, state: number): TcpSocket {
    const le = this.#littleEndian;
    const localAddress = family === AF_INET ? this.#ipv4(bytes, at + 8) : this.#ipv6(bytes, at + 8);
    const remoteAddress =
      family === AF_INET ? this.#ipv4(bytes, at + 24) : this.#ipv6(bytes, at + 24);
    const rqueue = view.getUint32(at + 56, le);
    const wqueue = view.getUint32(at + 60, le);
    const isListen = state === LISTEN;
    const socket: TcpSocket = {
      family: family === AF_INET ? 4 : 6,
      state: STATE_BY_NUMBER[state]!,
      localAddress,
      localPort: (bytes[at + 4]! << 8) | bytes[at + 5]!,
      remoteAddress,
      remotePort: (bytes[at + 6]! << 8) | bytes[at + 7]!,
      txQueue: isListen ? 0 : wqueue,
      rxQueue: rqueue,
      timer: bytes[at + 2]!,
      retransmits: bytes[at + 3]!,
      uid: view.getUint32(at + 64, le),
      inode: view.getUint32(at + 68, le),
    };
    if (isListen) socket.backlog = wqueue;
    return socket;
  }

  /** Four bytes in network order as a dotted quad, decoded once per distinct address. */
  #ipv4(bytes: Uint8Array, at: number): string {
    const key =
      ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
    let address = this.#v4.get(key);
    if (address === undefined) {
      address = `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
      this.#v4.set(key, address);
    }
    return address;
  }

  /** Sixteen bytes as RFC 5952 text; IPv4-mapped addresses become plain IPv4. */
  #ipv6(bytes: Uint8Array, at: number): string {
    let mapped = bytes[at + 10] === 0xff && bytes[at + 11] === 0xff;
    for (let i = 0; i < 10 && mapped; i++) if (bytes[at + i] !== 0) mapped = false;
    if (mapped) return this.#ipv4(bytes, at + 12);
    let key = '';
    for (let i = 0; i < 16; i++) key += String.fromCharCode(bytes[at + i]!);
    let address = this.#v6.get(key);
    if (address === undefined) {
      address = formatIpv6(Array.from(bytes.subarray(at, at + 16)));
      this.#v6.set(key, address);
    }
    return address;
  }
}
