/**
 * Parses /proc/net/tcp and /proc/net/tcp6 (net/ipv4/tcp_ipv4.c, tcp4_seq_show):
 *
 *   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
 *    0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 6665 ...
 *
 * Addresses are the kernel's words in host byte order, in hex. This is the hot
 * path at 50,000 sockets: it walks the text with charCodeAt, filters on the
 * state before decoding anything else, and caches decoded addresses (a host has
 * few distinct ones). A line that does not parse is counted, never thrown.
 */
import { formatIpv6 } from './ipv6-text.ts';
import type { SkipCounts, TcpSocket } from './socket.ts';
import { STATE_BY_NUMBER } from './tcp-state.ts';

/** States to keep, indexed by kernel state number; undefined keeps all. */
export type StateMask = Uint8Array | undefined;

const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[65 + i] = 10 + i;
  HEX[97 + i] = 10 + i;
}

export class ProcNetParser {
  readonly #littleEndian: boolean;
  readonly #addresses = new Map<string, string>();
  #text = '';
  #pos = 0;

  constructor(options: { littleEndian: boolean }) {
    this.#littleEndian = options.littleEndian;
  }

  /** Appends the sockets of one whole file's text (header included) to `out`. */
  parse(text: string, family: 4 | 6, out: TcpSocket[], skipped: SkipCounts, mask?: StateMask) {
    const start = text.indexOf('\n') + 1; // skip the header
    if (start === 0) return;
    const text2 = text.endsWith('\n') ? text : `${text}\n`;
    this.parseLines(text2, start, family, out, skipped, mask);
  }

  /**
   * Parses the complete lines of `text` from `start` (a chunk of a file read
   * in pieces) and returns the index after the last complete line; the caller
   * carries the rest over to the next chunk.
   */
  parseLines(
    text: string,
    start: number,
    family: 4 | 6,
    out: TcpSocket[],
    skipped: SkipCounts,
    mask?: StateMask,
  ): number {
    this.#text = text;
    const addressLength = family === 4 ? 8 : 32;
    let lineStart = start;
    for (;;) {
      const lineEnd = text.indexOf('\n', lineStart);
      if (lineEnd === -1) break;
      if (lineEnd > lineStart) {
        const socket = this.#parseLine(lineStart, lineEnd, family, addressLength, mask);
        if (socket === null) skipped.malformedLines += 1;
        else if (socket !== undefined) out.push(socket);
      }
      lineStart = lineEnd + 1;
    }
    this.#text = '';
    return lineStart;
  }

  /**
   * The counting fast path: adds one to `counts[state number]` per complete
   * line from `start`, reading nothing but the state column. Returns the index
   * after the last complete line.
   */
  countLines(
    text: string,
    start: number,
    family: 4 | 6,
    counts: Float64Array,
    skipped: SkipCounts,
  ): number {
    this.#text = text;
    const offset = 2 * (family === 4 ? 8 : 32) + 14; // from the colon after "sl" to "st"
    let lineStart = start;
    for (;;) {
      const lineEnd = text.indexOf('\n', lineStart);
      if (lineEnd === -1) break;
      if (lineEnd > lineStart) {
        const colon = text.indexOf(':', lineStart);
        const st = colon + offset;
        const state =
          colon !== -1 && st + 3 <= lineEnd && text.charCodeAt(st + 2) === 32
            ? this.#hexAt(st, 2)
            : -1;
        if (state > 0 && state < counts.length) counts[state]! += 1;
        else skipped.malformedLines += 1;
      }
      lineStart = lineEnd + 1;
    }
    this.#text = '';
    return lineStart;
  }

  /** A socket, undefined when filtered out by state, null when malformed. */
  #parseLine(
    start: number,
    end: number,
    family: 4 | 6,
    addressLength: number,
    mask: StateMask,
  ): TcpSocket | null | undefined {
    const text = this.#text;
    const colon = text.indexOf(':', start);
    if (colon === -1 || colon > end) return null;
    // Fixed layout after "sl:": " LLLL:PPPP RRRR:PPPP ST ".
    const local = colon + 2;
    const remote = local + addressLength + 6;
    const st = remote + addressLength + 6;
    if (st + 3 > end || text.charCodeAt(st + 2) !== 32) return null;
    const stateNumber = this.#hexAt(st, 2);
    const state = stateNumber < 0 ? undefined : STATE_BY_NUMBER[stateNumber];
    if (state === undefined) return null;
    if (mask !== undefined && mask[stateNumber] === 0) return undefined;
    if (
      text.charCodeAt(local + addressLength) !== 58 ||
      text.charCodeAt(remote + addressLength) !== 58
    )
      return null;
    const localPort = this.#hexAt(local + addressLength + 1, 4);
    const remotePort = this.#hexAt(remote + addressLength + 1, 4);
    // "tx:rx tr:when retrnsmt" are fixed width too.
    const q = st + 3;
    const txQueue = this.#hexAt(q, 8);
    const rxQueue = this.#hexAt(q + 9, 8);
    const timer = this.#hexAt(q + 18, 2);
    const retransmits = this.#hexAt(q + 30, 8);
    if ((localPort | remotePort | txQueue | rxQueue | timer | retransmits) < 0) return null;
    // uid, timeout, inode: space-separated decimals of varying width.
    this.#pos = q + 38;
    const uid = this.#decimal(end);
    this.#decimal(end); // timeout (unanswered probes), not reported
    const inode = this.#decimal(end);
    if (uid < 0 || inode < 0) return null;
    const localAddress = this.#address(local, addressLength);
    const remoteAddress = this.#address(remote, addressLength);
    if (localAddress === undefined || remoteAddress === undefined) return null;
    return {
      family,
      state,
      localAddress,
      localPort,
      remoteAddress,
      remotePort,
      txQueue,
      rxQueue,
      timer,
      retransmits,
      uid,
      inode,
    };
  }

  /** Hex number of `length` digits at `at`, or -1 when any is not a hex digit. */
  #hexAt(at: number, length: number): number {
    const text = this.#text;
    let value = 0;
    for (let i = at; i < at + length; i++) {
      const code = text.charCodeAt(i);
      const digit = code < 128 ? HEX[code]! : -1;
      if (digit < 0) return -1;
      value = value * 16 + digit;
    }
    return value;
  }

  /** Skips spaces, then reads a decimal; -1 when none is there. */
  #decimal(end: number): number {
    const text = this.#text;
    let pos = this.#pos;
    while (pos < end && text.charCodeAt(pos) === 32) pos++;
    const first = pos;
    let value = 0;
    for (; pos < end; pos++) {
      const code = text.charCodeAt(pos);
      if (code < 48 || code > 57) break;
      value = value * 10 + (code - 48);
    }
    this.#pos = pos;
    return pos === first ? -1 : value;
  }

  #address(at: number, length: number): string | undefined {
    const hex = this.#text.slice(at, at + length);
    let address = this.#addresses.get(hex);
    if (address === undefined) {
      address = length === 8 ? this.#decodeV4(hex, 0) : this.#decodeV6(hex);
      if (address === undefined) return undefined;
      this.#addresses.set(hex, address);
    }
    return address;
  }

  /** Four bytes of the 32-bit word at `at` in network order. */
  #wordBytes(hex: string, at: number): number[] | undefined {
    const bytes = [0, 0, 0, 0];
    for (let i = 0; i < 4; i++) {
      const hi = HEX[hex.charCodeAt(at + i * 2)] ?? -1;
      const lo = HEX[hex.charCodeAt(at + i * 2 + 1)] ?? -1;
      if (hi < 0 || lo < 0) return undefined;
      bytes[this.#littleEndian ? 3 - i : i] = hi * 16 + lo;
    }
    return bytes;
  }

  #decodeV4(hex: string, at: number): string | undefined {
    const b = this.#wordBytes(hex, at);
    return b && `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  }

  #decodeV6(hex: string): string | undefined {
    const bytes: number[] = [];
    for (let word = 0; word < 4; word++) {
      const b = this.#wordBytes(hex, word * 8);
      if (b === undefined) return undefined;
      bytes.push(...b);
    }
    return formatIpv6(bytes);
  }
}
