/**
 * The parent's side of bench/agent-load.ts: forks it and keeps what it
 * reports, each command id with the wall-clock time its agent received it.
 */
import { type ChildProcess, fork } from 'node:child_process';

const LOAD = new URL('./agent-load.ts', import.meta.url).pathname;

export interface AgentLoad {
  readonly child: ChildProcess;
  /** Command id -> receipt time (performance.timeOrigin + performance.now()). */
  readonly received: Map<string, number>;
  /** Receipts so far, repeats included. */
  count(): number;
  /** The latest receipt time so far. */
  lastAt(): number;
  /** Agent sockets closed that nobody asked to close (the generator does not reconnect them). */
  lost(): number;
  /** Lost sockets by why (the socket error or the server's close, after which answer). */
  lostWhy(): Record<string, number>;
  /** Resolves once every agent is connected. */
  readonly connected: Promise<void>;
}

interface LoadMessage {
  type: string;
  items?: [string, number][];
  count?: number;
  why?: Record<string, number>;
}

export function startAgentLoad(args: string[]): AgentLoad {
  const child = fork(LOAD, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const received = new Map<string, number>();
  let count = 0;
  let lastAt = 0;
  let lost = 0;
  let lostWhy: Record<string, number> = {};
  const connected = new Promise<void>((resolve) => {
    child.on('message', (message: LoadMessage) => {
      if (message.type === 'connected') resolve();
      if (message.type === 'lost') {
        lost = message.count!;
        lostWhy = message.why!;
      }
      if (message.type !== 'got') return;
      for (const [id, at] of message.items!) {
        received.set(id, at);
        count += 1;
        if (at > lastAt) lastAt = at;
      }
    });
  });
  return {
    child,
    received,
    count: () => count,
    lastAt: () => lastAt,
    lost: () => lost,
    lostWhy: () => lostWhy,
    connected,
  };
}
