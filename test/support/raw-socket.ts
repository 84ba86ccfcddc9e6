/**
 * Raw TCP clients for listener tests: idle connections, slow senders, and the
 * moment the server closes a socket, observed as events (never by sleeping).
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** HOST and PORT from DATA_DIR/NAME.addr. */
export function listenerAddress(dataDir: string, name: string): { host: string; port: number } {
  const text = readFileSync(join(dataDir, `${name}.addr`), 'utf8').trim();
  const colon = text.lastIndexOf(':');
  return {
    host: text.slice(0, colon).replace(/^\[|\]$/g, ''),
    port: Number(text.slice(colon + 1)),
  };
}

export interface OpenSocket {
  readonly socket: Socket;
  /** Resolves when the socket closes, with whatever the server sent before. */
  readonly closed: Promise<string>;
}

/** Opens a connection and keeps it (connect errors count as a close). */
export function openSocket(address: { host: string; port: number }): OpenSocket {
  const socket = connect(address.port, address.host);
  let received = '';
  socket.setEncoding('latin1').on('data', (text: string) => {
    received += text;
  });
  socket.on('error', () => {});
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(received)));
  return { socket, closed };
}

/** Resolves once `socket` is connected. */
export function connected(socket: Socket): Promise<void> {
  if (!socket.connecting) return Promise.resolve();
  return new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('close', () => reject(new Error('closed before connecting')));
  });
}

/** Polls `check` until it returns true, failing after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** The value of one sample line of a Prometheus text exposition (0 when absent). */
export function metricValue(text: string, sample: string): number {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1));
  }
  return 0;
}
