/**
 * TCP states as the kernel names them (include/net/tcp_states.h), with the
 * numbers /proc/net/tcp prints in hex, the names `ss` prints, and the state
 * filter names `ss` takes on its command line.
 */
import { UsageError } from '../errors.ts';

export const TCP_STATES = [
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'CLOSING',
] as const;

export type TcpState = (typeof TCP_STATES)[number];

/**
 * The states `keepwire serve`'s light samples count without reading their
 * sockets one by one (watch-sampler.ts): the many, on a busy host, that no
 * finding reads socket by socket except TIME_WAIT pressure, which full samples compute.
 */
export const CARRIED_STATES: readonly TcpState[] = ['ESTABLISHED', 'TIME_WAIT'];

/** Index = kernel state number (1..11); 0 and 12+ are not TCP states. */
export const STATE_BY_NUMBER: readonly (TcpState | undefined)[] = [undefined, ...TCP_STATES];

/** The names `ss` prints in its State column. */
export const STATE_BY_SS_NAME: Readonly<Record<string, TcpState>> = {
  ESTAB: 'ESTABLISHED',
  'SYN-SENT': 'SYN_SENT',
  'SYN-RECV': 'SYN_RECV',
  'FIN-WAIT-1': 'FIN_WAIT1',
  'FIN-WAIT-2': 'FIN_WAIT2',
  'TIME-WAIT': 'TIME_WAIT',
  UNCONN: 'CLOSE',
  CLOSE: 'CLOSE',
  'CLOSE-WAIT': 'CLOSE_WAIT',
  'LAST-ACK': 'LAST_ACK',
  LISTEN: 'LISTEN',
  CLOSING: 'CLOSING',
};

/** The filter names `ss ... state NAME` accepts (iproute2 misc/ss.c). */
export const SS_FILTER_NAME: Readonly<Record<TcpState, string>> = {
  ESTABLISHED: 'established',
  SYN_SENT: 'syn-sent',
  SYN_RECV: 'syn-recv',
  FIN_WAIT1: 'fin-wait-1',
  FIN_WAIT2: 'fin-wait-2',
  TIME_WAIT: 'time-wait',
  CLOSE: 'closed',
  CLOSE_WAIT: 'close-wait',
  LAST_ACK: 'last-ack',
  LISTEN: 'listening',
  CLOSING: 'closing',
};

const ALIASES: Readonly<Record<string, TcpState>> = {
  ESTAB: 'ESTABLISHED',
  FIN_WAIT_1: 'FIN_WAIT1',
  FIN_WAIT_2: 'FIN_WAIT2',
  LISTENING: 'LISTEN',
  CLOSED: 'CLOSE',
  SYN_RECEIVED: 'SYN_RECV',
};

/** An empty count for every state, in kernel order, so JSON always has all keys. */
export function emptyStateCounts(): Record<TcpState, number> {
  const counts = {} as Record<TcpState, number>;
  for (const state of TCP_STATES) counts[state] = 0;
  return counts;
}

/** Parses `close-wait`, `CLOSE_WAIT`, `Time-Wait`, `estab`...; undefined when unknown. */
export function toTcpState(name: string): TcpState | undefined {
  const key = name.trim().toUpperCase().replaceAll('-', '_');
  if ((TCP_STATES as readonly string[]).includes(key)) return key as TcpState;
  return ALIASES[key];
}

/** Like toTcpState, but a UsageError listing the valid names when unknown. */
export function parseTcpState(name: string): TcpState {
  const state = toTcpState(name);
  if (state === undefined) {
    const valid = TCP_STATES.map((s) => s.toLowerCase().replaceAll('_', '-')).join(', ');
    throw new UsageError(`unknown TCP state "${name}"; use one of: ${valid}`);
  }
  return state;
}
