/**
 * Real loopback sockets in every state a test can produce on one port, and
 * `ss -tanpH` read for comparison: shared by the sockets tests.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

interface SsSocket {
  state: string;
  localPort: number;
  remotePort: number;
  pid?: number;
  process?: string;
}

const SS_STATE: Record<string, string> = {
  ESTAB: 'ESTABLISHED',
  LISTEN: 'LISTEN',
  'CLOSE-WAIT': 'CLOSE_WAIT',
  'FIN-WAIT-2': 'FIN_WAIT2',
  'TIME-WAIT': 'TIME_WAIT',
  'FIN-WAIT-1': 'FIN_WAIT1',
  'LAST-ACK': 'LAST_ACK',
  'SYN-SENT': 'SYN_SENT',
  'SYN-RECV': 'SYN_RECV',
  CLOSING: 'CLOSING',
};

export async function ssOnPort(port: number): Promise<SsSocket[]> {
  const { stdout } = await run('ss', ['-tanpH'], { maxBuffer: 1 << 28 });
  const sockets: SsSocket[] = [];
  for (const line of stdout.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 5) continue;
    const portOf = (endpoint: string) => Number(endpoint.slice(endpoint.lastIndexOf(':') + 1)) || 0;
    const socket: SsSocket = {
      state: SS_STATE[fields[0]!] ?? fields[0]!,
      localPort: portOf(fields[3]!),
      remotePort: portOf(fields[4]!),
    };
    if (socket.localPort !== port && socket.remotePort !== port) continue;
    const users = /users:\(\("([^"]+)",pid=(\d+),fd=\d+\)/.exec(line);
    if (users) {
      socket.process = users[1];
      socket.pid = Number(users[2]);
    }
    sockets.push(socket);
  }
  return sockets;
}

export function countStates(sockets: SsSocket[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of sockets) counts[s.state] = (counts[s.state] ?? 0) + 1;
  return counts;
}

export function nonZero(states: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(states).filter(([, n]) => n > 0));
}

/**
 * LISTEN, 2x ESTABLISHED pairs, CLOSE_WAIT + FIN_WAIT2, TIME_WAIT on one port;
 * clients connect to `connectHost` (127.0.0.1 to a dual-stack "::" listener
 * gives IPv4-mapped IPv6 sockets on the server side).
 */
export async function openEveryState(
  host: string,
  connectHost = host,
): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    socket.on('data', (data) => {
      const command = data.toString();
      if (command.includes('close-first')) socket.end(); // we close, the client never does
    });
    socket.on('end', () => socket.end()); // the client closed first: finish the close
  });
  const port = await listenOnQuietPort(server, host);
  const open = async (allowHalfOpen: boolean) => {
    const client = connect({ host: connectHost, port, allowHalfOpen });
    client.on('error', () => {});
    await once(client, 'connect');
    sockets.push(client);
    return client;
  };
  await open(false);
  await open(false);
  const halfOpen = await open(true); // -> CLOSE_WAIT here, FIN_WAIT2 on the server side
  halfOpen.write('close-first');
  const closer = await open(false); // -> TIME_WAIT: the client closes first
  closer.end();
  return { server, port, sockets };
}

/**
 * Port 0 may hand out a port that a recent connection of another test used as
 * its own ephemeral port, whose TIME_WAIT would then count here: listen
 * again until no socket but ours names the port (CI saw 3 TIME_WAIT for 1).
 */
async function listenOnQuietPort(server: Server, host: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    server.listen(0, host);
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const others = (await ssOnPort(port)).filter((socket) => socket.state !== 'LISTEN');
    if (others.length === 0 || attempt === 20) return port;
    server.close();
    await once(server, 'close');
  }
}

export async function settle(port: number, expected: Record<string, number>): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const states = countStates(await ssOnPort(port));
    if (JSON.stringify(sortKeys(states)) === JSON.stringify(sortKeys(expected))) return;
    if (Date.now() > deadline) assert.fail(`sockets never settled: ${JSON.stringify(states)}`);
    await sleep(50);
  }
}

export const EXPECTED = { ESTABLISHED: 4, LISTEN: 1, CLOSE_WAIT: 1, FIN_WAIT2: 1, TIME_WAIT: 1 };

export function sortKeys(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}
