/**
 * Load generator for bench/commands.ts: holds N long-polling agents on raw
 * keep-alive TCP sockets (a minimal HTTP/1.1 writer and parser; far cheaper
 * than N HTTP clients), re-polls after every answer, and reports receipts
 * to the parent over IPC with wall-clock timestamps
 * (performance.timeOrigin + performance.now(), comparable across processes).
 *
 * argv: HOST PORT TOKENS_FILE WAIT_S; PORT may be a comma-separated list
 * (several nodes): agent i then polls port i mod n. IPC in: {type: "storm"} destroys every
 * socket at once; {type: "stop"}. IPC out: {type: "connected", count},
 * {type: "got", items: [[commandId, atMs], ...]}, {type: "stormed"}, and
 * {type: "lost", count, why} whenever sockets closed that nobody asked to
 * close (count: all such closes so far; why: counts by socket error or the
 * server's close, and the last status line read before it).
 *
 * An agent whose socket is lost reconnects, as a real agent does, after a
 * delay that doubles from 100 ms to 2 s (no jitter: runs stay comparable).
 * The parent sees every loss: a server over its maxConnections closes new
 * sockets at once, and a listen queue overflowing on a saturated machine
 * resets some; counting those agents as connected once made a run wait for
 * them forever.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';

const [host = '127.0.0.1', portText = '8681', tokensFile = '', waitText = '1200'] =
  process.argv.slice(2);
const ports = portText.split(',').map(Number);
const tokens = readFileSync(tokensFile, 'utf8').trim().split('\n');
const now = () => performance.timeOrigin + performance.now();

let pending: [string, number][] = [];
let flushScheduled = false;
function report(id: string, at: number): void {
  pending.push([id, at]);
  if (flushScheduled) return;
  flushScheduled = true;
  setImmediate(() => {
    flushScheduled = false;
    process.send!({ type: 'got', items: pending });
    pending = [];
  });
}

let lost = 0;
/** Lost sockets by why: the socket error, or the peer's close, and the last status line read. */
const lostWhy = new Map<string, number>();
let isLostScheduled = false;
let isClosing = false;
function reportLost(why: string): void {
  lost += 1;
  lostWhy.set(why, (lostWhy.get(why) ?? 0) + 1);
  if (isLostScheduled) return;
  isLostScheduled = true;
  setImmediate(() => {
    isLostScheduled = false;
    process.send!({ type: 'lost', count: lost, why: Object.fromEntries(lostWhy) });
  });
}

const ID_PATTERN = /"id":"([^"]+)","action"/g;

const FIRST_RECONNECT_MS = 100;
const MAX_RECONNECT_MS = 2_000;

class PollingAgent {
  socket: Socket;
  readonly #request: Buffer;
  readonly #port: number;
  #onFirstConnect: (() => void) | undefined;
  #buffer = '';
  #lastStatus = 'no answer yet';
  #error: (Error & { code?: string }) | undefined;
  #reconnectMs = FIRST_RECONNECT_MS;

  constructor(token: string, port: number, onFirstConnect: () => void) {
    this.#request = Buffer.from(
      `GET /v1/commands?waitS=${waitText} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\n\r\n`,
    );
    this.#port = port;
    this.#onFirstConnect = onFirstConnect;
    this.socket = this.#connect();
  }

  #connect(): Socket {
    this.#buffer = '';
    this.#lastStatus = 'no answer yet';
    this.#error = undefined;
    const socket = connect({ host, port: this.#port, noDelay: true }, () => {
      this.#onFirstConnect?.();
      this.#onFirstConnect = undefined;
      socket.write(this.#request);
    });
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => this.#onData(chunk));
    // The error is followed by 'close', which reports the loss.
    socket.on('error', (error) => {
      this.#error = error;
    });
    socket.on('close', () => {
      if (isClosing) return;
      reportLost(`${this.#error?.code ?? 'closed by the server'} after "${this.#lastStatus}"`);
      setTimeout(() => {
        if (!isClosing) this.socket = this.#connect();
      }, this.#reconnectMs);
      this.#reconnectMs = Math.min(this.#reconnectMs * 2, MAX_RECONNECT_MS);
    });
    return socket;
  }

  #onData(chunk: string): void {
    const at = now();
    this.#buffer += chunk;
    for (;;) {
      const headEnd = this.#buffer.indexOf('\r\n\r\n');
      if (headEnd === -1) return;
      const head = this.#buffer.slice(0, headEnd);
      const length = /\r\ncontent-length: *(\d+)/i.exec(head);
      const bodyLength = length ? Number(length[1]) : 0;
      if (this.#buffer.length < headEnd + 4 + bodyLength) return;
      const body = this.#buffer.slice(headEnd + 4, headEnd + 4 + bodyLength);
      this.#buffer = this.#buffer.slice(headEnd + 4 + bodyLength);
      this.#lastStatus = head.split('\r\n', 1)[0]!;
      this.#reconnectMs = FIRST_RECONNECT_MS;
      if (head.startsWith('HTTP/1.1 200'))
        for (const match of body.matchAll(ID_PATTERN)) report(match[1]!, at);
      this.socket.write(this.#request);
    }
  }
}

const agents: PollingAgent[] = [];
let connected = 0;
let index = 0;
// Connect in slices so the listen backlog is never overrun.
function connectSome(): void {
  const end = Math.min(tokens.length, index + 500);
  for (; index < end; index += 1) {
    agents.push(
      new PollingAgent(tokens[index]!, ports[index % ports.length]!, () => {
        connected += 1;
        if (connected === tokens.length) process.send!({ type: 'connected', count: connected });
      }),
    );
  }
  if (index < tokens.length) setTimeout(connectSome, 20);
}
connectSome();

process.on('message', (message: { type: string }) => {
  if (message.type === 'storm') {
    isClosing = true;
    for (const agent of agents) agent.socket.destroy();
    process.send!({ type: 'stormed' });
  } else if (message.type === 'stop') {
    isClosing = true;
    for (const agent of agents) agent.socket.destroy();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
