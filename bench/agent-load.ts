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
 * {type: "got", items: [[commandId, atMs], ...]}, {type: "stormed"}.
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

const ID_PATTERN = /"id":"([^"]+)","action"/g;

class PollingAgent {
  readonly socket: Socket;
  readonly #request: Buffer;
  #buffer = '';

  constructor(token: string, port: number, onConnect: () => void) {
    this.#request = Buffer.from(
      `GET /v1/commands?waitS=${waitText} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\n\r\n`,
    );
    this.socket = connect({ host, port, noDelay: true }, () => {
      onConnect();
      this.socket.write(this.#request);
    });
    this.socket.setEncoding('latin1');
    this.socket.on('data', (chunk: string) => this.#onData(chunk));
    this.socket.on('error', () => {});
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
    for (const agent of agents) agent.socket.destroy();
    process.send!({ type: 'stormed' });
  } else if (message.type === 'stop') {
    for (const agent of agents) agent.socket.destroy();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
