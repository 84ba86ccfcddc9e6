/**
 * Grows the host's TCP socket count to a level with child processes holding
 * loopback connections (bench/socket-farm.ts, 4,000 connections = 8,000 fds
 * each, each raising its own fd limit before Node.js starts), on
 * 127.0.0.1-127.0.0.8. The sockets other processes hold count toward the
 * level. Close them all with stopFarms().
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { takeStateCounts } from '../src/conntrack/snapshot.ts';

const root = new URL('..', import.meta.url).pathname;
const CONNECTIONS_PER_FARM = 4000;
const farms: ChildProcess[] = [];

/** Every TCP socket on the host now (all states). */
export async function countSockets(): Promise<number> {
  const { states } = await takeStateCounts();
  return Object.values(states).reduce((sum, n) => sum + n, 0);
}

async function startFarm(host: string, connections: number, closeWaitEvery: number): Promise<void> {
  const script = `ulimit -n $(( $(ulimit -Hn) < 20000 ? $(ulimit -Hn) : 20000 )); exec "$0" "$@"`;
  const args = ['bench/socket-farm.ts', host, String(connections), String(closeWaitEvery)];
  const child = spawn('sh', ['-c', script, process.execPath, ...args], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  farms.push(child);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      output += chunk;
      if (output.includes('ready')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`socket farm on ${host} exited ${code}`)));
  });
}

/** Adds farms until the host holds about `level` TCP sockets; one connection in `closeWaitEvery` half-closed. */
export async function growTo(level: number, closeWaitEvery = 50): Promise<void> {
  let missing = Math.floor((level - (await countSockets())) / 2);
  while (missing > 0) {
    const connections = Math.min(missing, CONNECTIONS_PER_FARM);
    await startFarm(`127.0.0.${(farms.length % 8) + 1}`, connections, closeWaitEvery);
    missing -= connections;
  }
}

/** Ends every farm (each exits when its stdin closes). */
export function stopFarms(): void {
  for (const farm of farms.splice(0)) farm.stdin!.end();
}
