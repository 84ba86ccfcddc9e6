/**
 * Parses `ss -tanHeo [state NAME ...]` (iproute2, netlink):
 *
 *   ESTAB  0  0  127.0.0.1:4369  127.0.0.1:47700 uid:106 ino:5893 sk:a cgroup:/ <->
 *   TIME-WAIT 0 0 127.0.0.1:37452 127.0.0.1:4369 timer:(timewait,43sec,0) ino:0 sk:1001
 *
 * With exactly one state filter `ss` leaves the State column out; the caller
 * passes that state. For LISTEN sockets Send-Q is the accept backlog. Lines that
 * do not parse are counted, never thrown.
 */
import type { SkipCounts, TcpSocket } from './socket.ts';
import { STATE_BY_SS_NAME, type TcpState } from './tcp-state.ts';

const TIMERS: Readonly<Record<string, number>> = { on: 1, keepalive: 2, timewait: 3, persist: 4 };

export function parseSsOutput(
  text: string,
  out: TcpSocket[],
  skipped: SkipCounts,
  onlyState?: TcpState,
): number {
  let added = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    if (end > start) {
      const socket = parseSsLine(text.slice(start, end), onlyState);
      if (socket === undefined) skipped.malformedLines += 1;
      else {
        out.push(socket);
        added += 1;
      }
    }
    start = end + 1;
  }
  return added;
}

export function parseSsLine(line: string, onlyState?: TcpState): TcpSocket | undefined {
  const fields = line.trim().split(/\s+/);
  if (fields.length === 1 && fields[0] === '') return undefined;
  let i = 0;
  const state = onlyState ?? STATE_BY_SS_NAME[fields[i++] ?? ''];
  if (state === undefined) return undefined;
  const recvQ = toCount(fields[i++]);
  const sendQ = toCount(fields[i++]);
  const local = parseEndpoint(fields[i++]);
  const remote = parseEndpoint(fields[i++]);
  if (recvQ < 0 || sendQ < 0 || local === undefined || remote === undefined) return undefined;
  const socket: TcpSocket = {
    family: local.family,
    state,
    localAddress: local.address,
    localPort: local.port,
    remoteAddress: remote.address,
    remotePort: remote.port,
    txQueue: state === 'LISTEN' ? 0 : sendQ,
    rxQueue: recvQ,
    timer: 0,
    retransmits: 0,
    uid: 0,
    inode: 0,
  };
  if (state === 'LISTEN') socket.backlog = sendQ;
  for (; i < fields.length; i++) {
    const field = fields[i]!;
    if (field.startsWith('uid:')) socket.uid = toCount(field.slice(4));
    else if (field.startsWith('ino:')) socket.inode = toCount(field.slice(4));
    else if (field.startsWith('timer:(')) {
      const [name, , retransmits] = field.slice(7, -1).split(',');
      socket.timer = TIMERS[name ?? ''] ?? 0;
      socket.retransmits = Math.max(0, toCount(retransmits));
    }
  }
  if (socket.uid < 0 || socket.inode < 0) return undefined;
  return socket;
}

function toCount(text: string | undefined): number {
  if (text === undefined || !/^\d+$/.test(text)) return -1;
  return Number(text);
}

/** `127.0.0.1:80`, `[::1]:80`, `[::ffff:10.0.0.1]:80`, `127.0.0.53%lo:53`, `*:*`. */
export function parseEndpoint(
  text: string | undefined,
): { family: 4 | 6; address: string; port: number } | undefined {
  if (text === undefined) return undefined;
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const portText = text.slice(colon + 1);
  const port = portText === '*' ? 0 : toCount(portText);
  if (port < 0 || port > 65_535) return undefined;
  let address = text.slice(0, colon);
  let family: 4 | 6 = 4;
  if (address.startsWith('[') && address.endsWith(']')) {
    address = address.slice(1, -1);
    family = 6;
  }
  const percent = address.indexOf('%');
  if (percent !== -1) address = address.slice(0, percent);
  if (address === '*') address = family === 6 ? '::' : '0.0.0.0';
  if (family === 6 && address.startsWith('::ffff:') && address.includes('.'))
    address = address.slice(7);
  if (family === 4 && address.includes(':')) return undefined;
  return { family, address, port };
}
