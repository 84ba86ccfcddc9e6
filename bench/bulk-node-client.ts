/**
 * Starts bench/bulk-server-process.ts (the `_bulk` node in a process of its
 * own) and talks to it: one command line in, one JSON line out (`stats`,
 * `reset`, `restart`). Shared by the ModSecurity benches.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { exited } from './syslog-ng-process.ts';

export interface BulkNodeProcess {
  readonly child: ChildProcess;
  readonly port: number;
  /** Sends `command` (none: reads the next line only) and parses the answer. */
  ask<T>(command?: string): Promise<T>;
  /** Ends its standard input and waits for it to exit. */
  stop(): Promise<void>;
}

export async function startBulkNodeProcess(): Promise<BulkNodeProcess> {
  const child = spawn(
    process.execPath,
    [new URL('./bulk-server-process.ts', import.meta.url).pathname],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const answers = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  async function ask<T>(command?: string): Promise<T> {
    if (command) child.stdin!.write(`${command}\n`);
    const line = await answers.next();
    if (line.done) throw new Error('the _bulk node process ended');
    return JSON.parse(line.value as string) as T;
  }
  const { port } = await ask<{ port: number }>();
  return {
    child,
    port,
    ask,
    stop: async () => {
      child.stdin!.end();
      await exited(child);
    },
  };
}

/** The arguments of `node` for `keepwire ship --from modsecurity INPUT --sink opensearch` into `url`. */
export function modsecurityShipArgs(options: {
  readonly input: string;
  readonly url: string;
  readonly dataDir: string;
  readonly concurrency: number;
  readonly batchEvents: number;
  readonly extra?: readonly string[];
}): string[] {
  return [
    new URL('../bin/keepwire.js', import.meta.url).pathname,
    'ship',
    '--from',
    'modsecurity',
    options.input,
    '--sink',
    'opensearch',
    '--to',
    options.url,
    '--index',
    'modsec-%Y.%m.%d',
    '--concurrency',
    String(options.concurrency),
    '--batch-max-events',
    String(options.batchEvents),
    '--data-dir',
    options.dataDir,
    '--json',
    ...(options.extra ?? []),
  ];
}
